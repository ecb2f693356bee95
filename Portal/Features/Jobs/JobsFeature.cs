using Cogrion.Portal.Infrastructure.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Jobs;

public static class JobsFeature
{
    /// <summary>/metrics and the admin job console. The engine itself is infrastructure (AddPortalJobEngine).</summary>
    public static WebApplicationBuilder AddPortalJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddPortalMetrics(builder.Configuration);
        builder.Services.TryAddSingleton<JobConsoleQueries>();
        builder.Services.TryAddSingleton<JobConsoleActions>();
        return builder;
    }

    public static WebApplication MapJobEndpoints(this WebApplication app)
    {
        app.MapMetricsEndpoint();
        return app;
    }
}
