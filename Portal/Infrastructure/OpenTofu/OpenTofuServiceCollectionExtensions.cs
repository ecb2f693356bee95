using Microsoft.Extensions.DependencyInjection.Extensions;
using Cogrion.Portal.Infrastructure.Configuration;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

public static class OpenTofuServiceCollectionExtensions
{
    /// <summary>The OpenTofu runner and its one process boundary (swappable with TryAdd, as every boundary is).</summary>
    public static WebApplicationBuilder AddOpenTofu(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<OpenTofuOptions, OpenTofuOptionsValidator>(builder.Configuration, OpenTofuOptions.Section);
        builder.Services.TryAddSingleton<ITofuCli, TofuProcessCli>();
        builder.Services.TryAddSingleton<TofuRunner>();
        return builder;
    }
}
