using Npgsql;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Features.Agents.Commands;

/// <summary>
/// ONE connection per Portal process listening on <see cref="Channel"/>; each notification names an
/// agent id and wakes that agent's long poll here, whichever replica enqueued the command
/// (PostgreSQL delivers NOTIFY to every listening session at commit). A lost connection is
/// re-opened with a short delay and every waiter re-reads its queue, so nothing is missed.
/// </summary>
public sealed class AgentCommandListener(
    NpgsqlDataSource dataSource,
    AgentCommandSignals signals,
    MigrationStatus migrations,
    TimeProvider time,
    ILogger<AgentCommandListener> logger) : BackgroundService
{
    public const string Channel = "agent_commands";
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);
    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the first LISTEN is in place (tests and benchmarks wait for it).</summary>
    public Task Listening => listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await migrations.WaitUntilAppliedAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (MigrationException)
        {
            return; // The migration service stops the Portal.
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"listen {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                listening.TrySetResult();
                // Anything enqueued while we were not listening is found by this re-read.
                signals.WakeUpAll();
                while (!stoppingToken.IsCancellationRequested)
                    await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.IO.IOException)
            {
                logger.LogWarning("Agent command listener lost its database connection ({Problem}); reconnecting", ex.Message);
                signals.WakeUpAll();
                await Task.Delay(ReconnectDelay, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (Guid.TryParse(e.Payload, out var agentId)) signals.WakeUp(agentId);
    }
}
