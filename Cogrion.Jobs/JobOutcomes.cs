using Dapper;
using Npgsql;

namespace Cogrion.Jobs;

/// <summary>
/// Writes how an attempt ended. Every statement is guarded by (worker, attempt, state = running):
/// a worker whose lease expired while it was frozen may wake up and try to report, but the job has
/// moved on (reclaimed, retried elsewhere), and its report then changes nothing. That guard is what
/// makes "completes once" hold even though a handler may run twice.
/// </summary>
internal sealed class JobOutcomes(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Marks many attempts of one worker succeeded in one statement (see <see cref="SuccessWriter"/>)
    /// and returns the ids it recorded; a job missing from the answer was no longer this worker's.
    /// </summary>
    public async Task<IReadOnlySet<long>> SucceedAsync(IReadOnlyList<ClaimedJob> jobs, string workerId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var recorded = await connection.QueryAsync<long>(new CommandDefinition("""
            with finished as (
                update jobs j
                set state = 'succeeded', finished_at = now(), lease_expires_at = null,
                    last_error = null, last_error_stack = null
                from unnest(@ids, @attempts) as mine (id, attempt)
                where j.id = mine.id and j.attempt = mine.attempt and j.state = 'running' and j.worker_id = @workerId
                returning j.id, j.attempt, j.started_at, j.finished_at
            ), recorded as (
                insert into job_attempts (job_id, attempt, worker_id, started_at, finished_at, outcome)
                select id, attempt, @workerId, started_at, finished_at, 'succeeded' from finished
            )
            select id from finished
            """,
            new { ids = jobs.Select(j => j.Id).ToArray(), attempts = jobs.Select(j => j.Attempt).ToArray(), workerId },
            cancellationToken: cancellationToken));
        return recorded.ToHashSet();
    }

    /// <summary>
    /// Records a failed attempt: back to the queue after <paramref name="retryDelay"/> while attempts
    /// remain (and nobody asked to cancel), otherwise failed for good with the error kept.
    /// Returns the job's new state, or null when the job was no longer this worker's.
    /// </summary>
    public async Task<string?> FailAsync(ClaimedJob job, string workerId, string error, string stackTrace, TimeSpan retryDelay,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition("""
            with failed as (
                update jobs
                set state = case when attempt < max_attempts and cancel_requested_at is null then 'queued' else 'failed' end,
                    run_after = case when attempt < max_attempts then now() + @retryDelay else run_after end,
                    finished_at = case when attempt < max_attempts and cancel_requested_at is null then null else now() end,
                    worker_id = case when attempt < max_attempts and cancel_requested_at is null then null else worker_id end,
                    lease_expires_at = null,
                    last_error = @error,
                    last_error_stack = @stackTrace
                where id = @id and state = 'running' and worker_id = @workerId and attempt = @attempt
                returning id, attempt, started_at, state
            ), recorded as (
                insert into job_attempts (job_id, attempt, worker_id, started_at, finished_at, outcome, error, stack_trace)
                select id, attempt, @workerId, started_at, now(), 'failed', @error, @stackTrace from failed
            )
            select state from failed
            """, new { id = job.Id, workerId, attempt = job.Attempt, error, stackTrace, retryDelay }, cancellationToken: cancellationToken));
    }

    /// <summary>Records that the handler stopped because an operator cancelled the job (or was abandoned after ignoring it).</summary>
    public async Task<bool> CancelAsync(ClaimedJob job, string workerId, string reason, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var recorded = await connection.ExecuteScalarAsync<long?>(new CommandDefinition("""
            with cancelled as (
                update jobs
                set state = 'cancelled', finished_at = now(), lease_expires_at = null, last_error = @reason, last_error_stack = null
                where id = @id and state = 'running' and worker_id = @workerId and attempt = @attempt
                returning id, attempt, started_at, finished_at
            )
            insert into job_attempts (job_id, attempt, worker_id, started_at, finished_at, outcome, error)
            select id, attempt, @workerId, started_at, finished_at, 'cancelled', @reason from cancelled
            returning job_id
            """, new { id = job.Id, workerId, attempt = job.Attempt, reason }, cancellationToken: cancellationToken));
        return recorded is not null;
    }

    /// <summary>
    /// Hands jobs back on shutdown: queued again at once for another replica, the attempt not counted
    /// (the job did nothing wrong), the interruption kept in the attempt history. A job an operator
    /// already asked to cancel is cancelled instead.
    /// </summary>
    public async Task<int> ReleaseAsync(IReadOnlyCollection<long> jobIds, string workerId, CancellationToken cancellationToken)
    {
        if (jobIds.Count == 0) return 0;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            with mine as (
                select id, attempt, started_at, cancel_requested_at from jobs
                where id = any(@ids) and state = 'running' and worker_id = @workerId
                for update
            ), released as (
                update jobs j
                set state = case when m.cancel_requested_at is null then 'queued' else 'cancelled' end,
                    attempt = case when m.cancel_requested_at is null then j.attempt - 1 else j.attempt end,
                    finished_at = case when m.cancel_requested_at is null then null else now() end,
                    worker_id = case when m.cancel_requested_at is null then null else j.worker_id end,
                    run_after = now(),
                    lease_expires_at = null
                from mine m
                where j.id = m.id
                returning j.id
            )
            insert into job_attempts (job_id, attempt, worker_id, started_at, finished_at, outcome, error)
            select m.id, m.attempt, @workerId, m.started_at, now(), 'released',
                   'The replica shut down before the job finished; it was handed back to the queue.'
            from mine m join released r on r.id = m.id
            """, new { ids = jobIds.ToArray(), workerId }, cancellationToken: cancellationToken));
    }
}
