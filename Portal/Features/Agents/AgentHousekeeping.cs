using Cogrion.Portal.Infrastructure.Database;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Agents;

/// <summary>
/// Deletes what has outlived its purpose: assertion ids past their expiry (replay protection only
/// needs them until then) and unused bootstrap tokens a day after they expired. Offline marking
/// needs nothing here (computed from last_seen_at at read time). The job engine takes this over
/// when it lands; running it on every replica is harmless (idempotent deletes).
/// </summary>
public sealed class AgentHousekeeping(NpgsqlDataSource dataSource, MigrationStatus migrations, TimeProvider time, ILogger<AgentHousekeeping> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await migrations.WaitUntilAppliedAsync(stoppingToken);
            using var timer = new PeriodicTimer(Interval, time);
            do
            {
                try
                {
                    await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                    var now = time.GetUtcNow();
                    var assertions = await connection.ExecuteAsync(new CommandDefinition(
                        "delete from agent_assertion_ids where expires_at < @now", new { now }, cancellationToken: stoppingToken));
                    var tokens = await connection.ExecuteAsync(new CommandDefinition(
                        "delete from agent_bootstrap_tokens where used_at is null and expires_at < @cutoff",
                        new { cutoff = now - TimeSpan.FromDays(1) }, cancellationToken: stoppingToken));
                    if (assertions + tokens > 0)
                        logger.LogInformation("Agent housekeeping removed {Assertions} expired assertion id(s) and {Tokens} expired bootstrap " +
                            "token(s)", assertions, tokens);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    logger.LogWarning("Agent housekeeping skipped a round: {Problem}", ex.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
        catch (MigrationException)
        {
            // The migration service stops the Portal.
        }
    }
}
