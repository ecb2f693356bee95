using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.CloudAccounts;

public static class CloudAccountsServiceCollectionExtensions
{
    public static WebApplicationBuilder AddPortalCloudAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<CloudAccountStore>();
        return builder;
    }
}
