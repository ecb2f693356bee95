using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cogrion.Jobs;

/// <summary>
/// The engine's own LISTEN on <see cref="JobNotification.Channel"/>, for hosts that have no listener
/// of their own (<see cref="JobEngineSetup.HostDeliversNotifications"/> false). It holds one
/// connection of the data source for the life of the process (returned to the pool, the connection
/// is reset, which ends its LISTEN), hands every payload to <see cref="JobEvents"/>, and asks for a
/// resynchronisation whenever it (re)connects, since whatever was sent meanwhile went unheard.
/// </summary>
internal sealed class JobNotificationListener(
    NpgsqlDataSource dataSource,
    JobEvents events,
    JobStoreReadiness readiness,
    TimeProvider time,
    ILogger<JobNotificationListener> logger) : BackgroundService
{
    private static readonly TimeSpan MaximumRetryDelay = TimeSpan.FromSeconds(30);
    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the first LISTEN is in place.</summary>
    public Task Listening => listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await readiness.WaitUntilReadyAsync(stoppingToken);
        }
        catch (Exception)
        {
            return; // Stopping, or the schema cannot be used: nothing to listen for.
        }
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"listen {JobNotification.Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                failures = 0;
                listening.TrySetResult();
                events.Resynchronize();
                while (!stoppingToken.IsCancellationRequested)
                    await connection.WaitAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                // 1 s, 2 s, 4 s … up to 30 s, each taken at random between half and all of it.
                var ceiling = Math.Min(MaximumRetryDelay.TotalMilliseconds, 1000 * Math.Pow(2, Math.Min(failures - 1, 10)));
                var delay = TimeSpan.FromMilliseconds(ceiling * (0.5 + Random.Shared.NextDouble() / 2));
                logger.LogWarning("Lost the job notification connection ({Error}); retrying in {Delay}; workers fall back to their slow poll " +
                    "meanwhile", ex.Message, delay);
                events.Resynchronize();
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e) => events.Receive(e.Payload);
}
