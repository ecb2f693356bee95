using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Infrastructure.Jobs;

/// <summary>How the Portal hosts the job engine (Cogrion.Jobs): with its own parts where it has them.</summary>
public static class PortalJobEngine
{
    /// <summary>
    /// The engine, with the Portal's migrations applying its schema (DatabaseMigrationService), the
    /// Portal's one LISTEN connection delivering its notifications, the audit trail's redactor keeping
    /// secrets out of its arguments, logs and errors, and its gauges refreshed before each /metrics scrape.
    /// </summary>
    public static WebApplicationBuilder AddPortalJobEngine(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<IJobSecretRedactor, AuditRedactorForJobs>();
        builder.Services.AddJobEngine(builder.Configuration, setup =>
        {
            setup.SchemaReady = (services, cancellationToken) => services.GetRequiredService<MigrationStatus>()
                .WaitUntilAppliedAsync(cancellationToken);
            setup.HostDeliversNotifications = true;
        });
        builder.Services.AddNotificationSubscriber<JobNotificationSubscriber>();
        builder.Services.AddSingleton<IMetricsSnapshotSource, JobMetricsSnapshot>();
        return builder;
    }

    /// <summary>The audit trail's rule for secret-looking keys and its list of the Portal's own secrets: one rule for both.</summary>
    private sealed class AuditRedactorForJobs(SecretRedactor redactor) : IJobSecretRedactor
    {
        public bool IsSecretKey(string key) => SecretRedactor.IsSecretKey(key);

        public string Redact(string text) => redactor.RedactText(text) ?? "";
    }

    private sealed class JobMetricsSnapshot(JobMetrics metrics) : IMetricsSnapshotSource
    {
        public Task RefreshAsync(CancellationToken cancellationToken) => metrics.RefreshAsync(cancellationToken);
    }
}
