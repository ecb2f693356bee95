using Microsoft.Extensions.DependencyInjection.Extensions;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.Metrics;

namespace Cogrion.Portal.Features.Jobs;

public static class JobsFeature
{
    /// <summary>The job engine (shared infrastructure), /metrics, and the admin job console.</summary>
    public static WebApplicationBuilder AddPortalJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddJobEngine(builder.Configuration);
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
