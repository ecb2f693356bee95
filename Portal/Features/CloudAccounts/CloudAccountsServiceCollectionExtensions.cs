using Cogrion.Jobs;
using Cogrion.Portal.Features.Onboarding;
using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.CloudAccounts;

public static class CloudAccountsServiceCollectionExtensions
{
    public static WebApplicationBuilder AddPortalCloudAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<CloudAccountsOptions,
            CloudAccountsOptionsValidator>(builder.Configuration, CloudAccountsOptions.Section);
        builder.Services.TryAddSingleton<CloudAccountStore>();
        builder.Services.TryAddSingleton<StateBackendViews>();
        builder.Services.TryAddSingleton<CloudAccountCommands>();
        builder.Services.TryAddSingleton<CloudAccountVerifier>();
        builder.Services.AddJobHandler<VerifyCloudAccountHandler, VerifyCloudAccountJob>();
        builder.Services.AddOnboardingStep<ConnectCloudAccountStep>();
        return builder;
    }
}
