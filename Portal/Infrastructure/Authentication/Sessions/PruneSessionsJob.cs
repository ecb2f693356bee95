using Cogrion.Jobs;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Authentication.Sessions;

/// <summary>Deletes expired sessions and logout-token ids past their replay window, hourly.</summary>
public sealed record PruneSessionsJob : IJobArguments
{
    public static string Kind => "authentication.prune-sessions";
}

public sealed class PruneSessionsHandler(NpgsqlDataSource dataSource, TimeProvider time) : IJobHandler<PruneSessionsJob>
{
    public async Task RunAsync(PruneSessionsJob arguments, JobContext context)
    {
        await using var connection = await dataSource.OpenConnectionAsync(context.CancellationToken);
        var (sessions, tokens) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition("""
            with sessions as (delete from authentication_sessions where expires_at < @now returning 1),
                 tokens as (delete from backchannel_logout_tokens where forget_after < @now returning 1)
            select (select count(*) from sessions), (select count(*) from tokens)
            """, new { now = time.GetUtcNow() }, cancellationToken: context.CancellationToken));
        await context.AppendLogAsync($"Deleted {sessions} expired session(s) and {tokens} logout token id(s) past their replay window.");
    }
}
