using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cogrion.Jobs.Schema;

/// <summary>
/// Applies the engine's schema when the host starts, for hosts that leave it to the engine
/// (<see cref="JobEngineSetup.SchemaReady"/> unset). While the database cannot be reached it keeps
/// trying; a schema it cannot work with stops the host, because running on it would be worse.
/// </summary>
internal sealed class JobSchemaMigrator(
    NpgsqlDataSource dataSource,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<JobSchemaMigrator> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) => ready.Task.WaitAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await JobSchema.ApplyAsync(dataSource, logger, stoppingToken);
                ready.TrySetResult();
                return;
            }
            catch (JobSchemaException ex)
            {
                logger.LogCritical("Stopping: {Problem}", ex.Message);
                ready.TrySetException(ex);
                lifetime.StopApplication();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Cannot apply the job engine's schema yet ({Error}); retrying in {Delay}", ex.Message, RetryDelay);
                try
                {
                    await Task.Delay(RetryDelay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
