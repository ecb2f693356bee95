using Npgsql;

namespace Cogrion.Portal.Infrastructure.Database;

/// <summary>
/// Brings the schema up to date when the Portal starts. While the database cannot be reached it
/// keeps trying (the process stays alive, <c>/readyz</c> says why it is not ready); a migration that
/// fails stops the Portal with the reason, because running on a half-known schema is worse.
/// </summary>
public sealed class DatabaseMigrationService(
    MigrationRunner runner,
    MigrationStatus status,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<DatabaseMigrationService> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var report = await runner.ApplyAsync(stoppingToken);
                status.MarkApplied(report.CurrentVersion);
                logger.LogInformation("Database schema is at version {Version} ({Applied} migration(s) applied now)", report.CurrentVersion,
                    report.AppliedNow);
                return;
            }
            catch (MigrationException ex)
            {
                status.MarkFailed(ex.Message);
                logger.LogCritical("Stopping the Portal: {Problem}", ex.Message);
                Environment.ExitCode = 3;
                lifetime.StopApplication();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                var problem = $"Database unreachable: {ex.Message}";
                status.MarkWaiting(problem);
                logger.LogWarning("{Problem}; retrying in {Delay}", problem, RetryDelay);
                await Task.Delay(RetryDelay, time, stoppingToken);
            }
        }
    }
}
