using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Jobs.Diagnostics;
using Cogrion.Portal.Infrastructure.Jobs.Housekeeping;
using Cogrion.Portal.Infrastructure.Jobs.Recurring;
using Cogrion.Portal.Infrastructure.Metrics;

namespace Cogrion.Portal.Infrastructure.Jobs;

public static class JobsServiceCollectionExtensions
{
    /// <summary>
    /// The job engine: enqueueing (<see cref="JobQueue"/>), this replica's workers, the recurring
    /// scheduler, notifications and metrics, with the engine's own housekeeping kinds. Needs an
    /// NpgsqlDataSource, DatabaseOptions, MigrationStatus and a SecretRedactor from the host.
    /// </summary>
    public static IServiceCollection AddJobEngine(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<JobsOptions, JobsOptionsValidator>(configuration, JobsOptions.Section);
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => WorkerIdentity.ForThisProcess());
        services.TryAddSingleton<JobEvents>();
        services.TryAddSingleton<JobKindRegistry>();
        services.TryAddSingleton<JobQueue>();
        services.TryAddSingleton<JobControl>();
        services.TryAddSingleton<JobClaimer>();
        services.TryAddSingleton<JobOutcomes>();
        services.TryAddSingleton<SuccessWriter>();
        services.TryAddSingleton<JobLeases>();
        services.TryAddSingleton<JobLogWriter>();
        services.TryAddSingleton<JobRunner>();
        services.TryAddSingleton<JobMetrics>();
        services.AddSingleton<IMetricsSnapshotSource>(sp => sp.GetRequiredService<JobMetrics>());

        services.AddNotificationSubscriber<JobNotificationSubscriber>();
        services.TryAddSingleton<JobWorkerPool>();
        services.AddHostedService(sp => sp.GetRequiredService<JobWorkerPool>());
        services.AddHostedService<RecurringJobScheduler>();

        // The host must wait for the worker pool's shutdown grace period before giving up on it.
        services.AddOptions<HostOptions>().Configure<IOptions<JobsOptions>>((host, jobs) =>
        {
            var needed = jobs.Value.ShutdownGracePeriod + TimeSpan.FromSeconds(10);
            if (host.ShutdownTimeout < needed) host.ShutdownTimeout = needed;
        });

        services.AddJobHandler<SampleQueueDepthHandler, SampleQueueDepthJob>();
        services.AddJobHandler<PruneJobsHandler, PruneJobsJob>();
        services.AddJobHandler<DiagnosticEchoHandler, DiagnosticEchoJob>();
        services.AddRecurringJob("jobs.sample-queue-depth", JobSchedule.Every(TimeSpan.FromMinutes(1)), new SampleQueueDepthJob());
        services.AddRecurringJob("jobs.prune", JobSchedule.Cron("17 3 * * *"), new PruneJobsJob());
        return services;
    }
}
