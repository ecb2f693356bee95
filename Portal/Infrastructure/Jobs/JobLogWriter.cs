using Dapper;
using Npgsql;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Infrastructure.Jobs;

/// <summary>Stores a job's log lines and announces them, so pages watching the job stream them live.</summary>
public sealed class JobLogWriter(NpgsqlDataSource dataSource, SecretRedactor redactor)
{
    /// <summary>Long lines are cut: a log is for people, and one runaway line must not bloat the table.</summary>
    public const int MaxLineLength = 4000;

    /// <summary>
    /// Appends a line while the attempt still holds the job: a handler that was abandoned after a
    /// cancellation, or whose lease was reclaimed, cannot write into a later attempt's log.
    /// </summary>
    public async Task AppendAsync(long jobId, int attempt, string workerId, string line, CancellationToken cancellationToken)
    {
        var text = redactor.RedactText(line) ?? "";
        if (text.Length > MaxLineLength) text = text[..MaxLineLength] + " …[cut]";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            with line as (
                insert into job_logs (job_id, attempt, line)
                select @jobId, @attempt, @text
                where exists (select 1 from jobs where id = @jobId and state = 'running' and worker_id = @workerId and attempt = @attempt)
                returning job_id
            )
            select pg_notify('portal_jobs', 'log:' || job_id) from line
            """, new { jobId, attempt, workerId, text }, cancellationToken: cancellationToken));
    }
}
