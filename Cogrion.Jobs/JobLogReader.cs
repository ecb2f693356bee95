using Dapper;
using Npgsql;

namespace Cogrion.Jobs;

/// <summary>One line of a job's log, as its handler wrote it (secrets already masked).</summary>
public sealed record JobLogLine(long Id, int Attempt, DateTimeOffset LoggedAt, string Line);

/// <summary>Reads a job's log, for whoever shows it: the console, or a feature whose run is a job (its log is the job's).</summary>
public sealed class JobLogReader(NpgsqlDataSource dataSource)
{
    /// <summary>Up to <paramref name="take"/> lines after line <paramref name="afterId"/> (0 for the first), oldest first.</summary>
    public async Task<IReadOnlyList<JobLogLine>> ReadAsync(long jobId, long afterId, int take, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<JobLogLine>(new CommandDefinition("""
            select id, attempt, logged_at, line from job_logs
            where job_id = @jobId and id > @afterId
            order by id limit @take
            """, new { jobId, afterId, take = Math.Clamp(take, 1, 5000) }, cancellationToken: cancellationToken))).AsList();
    }
}
