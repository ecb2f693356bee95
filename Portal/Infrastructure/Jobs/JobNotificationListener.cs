using Microsoft.Extensions.Options;
using Npgsql;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Infrastructure.Jobs;

/// <summary>
/// Holds one connection per replica that LISTENs on the jobs channel and publishes what it hears to
/// <see cref="JobEvents"/>: new work for the worker pool, cancellations for the jobs in hand, and
/// changes for the console's pages. While nothing happens it sends nothing at all: the connection
/// only waits (TCP keepalives, not queries, detect a dead server). After a reconnect it publishes
/// <see cref="JobNotificationKind.Resynchronize"/>, since notifications sent meanwhile are lost.
/// </summary>
public sealed class JobNotificationListener(
    IOptions<DatabaseOptions> database,
    JobEvents events,
    MigrationStatus migrations,
    ILogger<JobNotificationListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await migrations.WaitUntilAppliedAsync(stoppingToken);
        var connectionString = new NpgsqlConnectionStringBuilder(database.Value.ConnectionString)
        {
            // A connection of its own, outside the pool: it lives as long as the process.
            Pooling = false,
            ApplicationName = "cogrion-portal-listener",
            TcpKeepAlive = true,
            TcpKeepAliveTime = 30,
            TcpKeepAliveInterval = 5,
        }.ConnectionString;
        var reconnecting = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, e) =>
                {
                    if (JobNotification.Parse(e.Payload) is { } notification) events.Publish(notification);
                };
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"listen {JobNotification.Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                if (reconnecting)
                {
                    logger.LogInformation("Job notifications are back; re-reading everything that may have changed meanwhile");
                    events.Publish(new JobNotification(JobNotificationKind.Resynchronize));
                }
                reconnecting = false;
                while (!stoppingToken.IsCancellationRequested)
                    await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.IO.IOException)
            {
                reconnecting = true;
                logger.LogWarning("Lost the job notification connection ({Error}); workers fall back to polling until it is back", ex.Message);
                // Everything may have been missed: let the pool claim and the pages reload.
                events.Publish(new JobNotification(JobNotificationKind.Resynchronize));
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1000, 3000)), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
