using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.OpenTofu.AliCloud;
using Cogrion.Portal.Infrastructure.Processes;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

public static class OpenTofuServiceCollectionExtensions
{
    /// <summary>The OpenTofu runner and its one process boundary (swappable with TryAdd, as every boundary is).</summary>
    public static WebApplicationBuilder AddOpenTofu(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<OpenTofuOptions, OpenTofuOptionsValidator>(builder.Configuration, OpenTofuOptions.Section);
        builder.Services.AddLifelines();
        builder.Services.AddValidatedOptions<ProvisioningOptions, ProvisioningOptionsValidator>(builder.Configuration, ProvisioningOptions.Section);
        builder.Services.TryAddSingleton<ITofuCli, TofuProcessCli>();
        // STS answers in well under a second; a hung call must not hold a run for the default 100 s.
        builder.Services.AddHttpClient(AliCloudStsClient.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        builder.Services.TryAddSingleton<IAliCloudPrincipalCredentials, EnvironmentAliCloudPrincipalCredentials>();
        builder.Services.TryAddSingleton<AliCloudStsClient>();
        builder.Services.TryAddSingleton<ITofuSessionSource, CloudTofuSessionSource>();
        builder.Services.TryAddSingleton<TofuRunner>();
        return builder;
    }
}
