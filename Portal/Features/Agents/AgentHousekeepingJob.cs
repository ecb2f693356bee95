using Cogrion.Jobs;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Agents;

/// <summary>
/// Deletes what has outlived its purpose, every five minutes: assertion ids past their expiry (replay protection only needs
/// them until then) and unused bootstrap tokens a day after they expired. Offline marking needs nothing here (computed from
/// last_seen_at at read time).
/// </summary>
public sealed record AgentHousekeepingJob : IJobArguments
{
    public static string Kind => "agents.housekeeping";
}

public sealed class AgentHousekeepingHandler(NpgsqlDataSource dataSource, TimeProvider time) : IJobHandler<AgentHousekeepingJob>
{
    public async Task RunAsync(AgentHousekeepingJob arguments, JobContext context)
    {
        await using var connection = await dataSource.OpenConnectionAsync(context.CancellationToken);
        var now = time.GetUtcNow();
        var (assertions, tokens) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition("""
            with assertions as (delete from agent_assertion_ids where expires_at < @now returning 1),
                 tokens as (delete from agent_bootstrap_tokens where used_at is null and expires_at < @cutoff returning 1)
            select (select count(*) from assertions), (select count(*) from tokens)
            """, new { now, cutoff = now - TimeSpan.FromDays(1) }, cancellationToken: context.CancellationToken));
        await context.AppendLogAsync($"Deleted {assertions} expired assertion id(s) and {tokens} expired bootstrap token(s).");
    }
}
