using Cogrion.Jobs.Diagnostics;
using Cogrion.Jobs.Housekeeping;
using Cogrion.Jobs.Recurring;
using Cogrion.Jobs.Schema;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cogrion.Jobs;

public static class JobsServiceCollectionExtensions
{
    /// <summary>
    /// The job engine: enqueueing (<see cref="JobQueue"/>), this process's workers, the recurring
    /// scheduler, notifications and metrics, with the engine's own housekeeping kinds. The host
    /// provides an <c>NpgsqlDataSource</c> and an <see cref="IJobSecretRedactor"/>; settings come
    /// from the <c>Jobs</c> section of <paramref name="configuration"/>; <paramref name="configure"/>
    /// decides who applies the schema and who listens (<see cref="JobEngineSetup"/>).
    /// </summary>
    public static IServiceCollection AddJobEngine(this IServiceCollection services, IConfiguration configuration,
        Action<JobEngineSetup>? configure = null)
    {
        var setup = new JobEngineSetup();
        configure?.Invoke(setup);
        DapperSetup.EnsureRegistered();

        services.AddOptions<JobsOptions>().Bind(configuration.GetSection(JobsOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobsOptions>, JobsOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => WorkerIdentity.ForThisProcess());
        services.TryAddSingleton<JobEvents>();
        services.TryAddSingleton(sp => new JobKindRegistry(sp.GetServices<JobKindRegistration>()));
        services.TryAddSingleton<JobQueue>();
        services.TryAddSingleton<JobControl>();
        services.TryAddSingleton<JobLogReader>();
        services.TryAddSingleton<JobClaimer>();
        services.TryAddSingleton<JobOutcomes>();
        services.TryAddSingleton<SuccessWriter>();
        services.TryAddSingleton<JobLeases>();
        services.TryAddSingleton<JobLogWriter>();
        services.TryAddSingleton<JobRunner>();
        services.TryAddSingleton<JobMetrics>();

        if (setup.SchemaReady is { } ready)
        {
            services.TryAddSingleton(sp => new JobStoreReadiness(cancellationToken => ready(sp, cancellationToken)));
        }
        else
        {
            services.TryAddSingleton<JobSchemaMigrator>();
            services.AddHostedService(sp => sp.GetRequiredService<JobSchemaMigrator>());
            services.TryAddSingleton(sp => new JobStoreReadiness(sp.GetRequiredService<JobSchemaMigrator>().WaitUntilReadyAsync));
        }
        if (!setup.HostDeliversNotifications)
        {
            services.TryAddSingleton<JobNotificationListener>();
            services.AddHostedService(sp => sp.GetRequiredService<JobNotificationListener>());
        }

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
