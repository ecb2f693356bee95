using Dapper;
using Npgsql;

namespace Cogrion.Jobs;

/// <summary>A job as an operator action left it (for the audit entry written in the same transaction).</summary>
public sealed record JobControlResult(long Id, string Kind, Guid? TenantId, string State);

/// <summary>
/// What an operator may do to a job: cancel, retry, delete. Each runs in the caller's transaction, so
/// the console writes the audit event with the change. Null means the job does not exist or is in
/// a state where the action makes no sense (the console says which).
/// </summary>
public sealed class JobControl
{
    /// <summary>
    /// A queued job is cancelled at once. A running one is flagged; the trigger's NOTIFY reaches the
    /// worker holding it on whichever replica, which cancels the handler's token (the next heartbeat
    /// catches it should the notification be lost).
    /// </summary>
    public Task<JobControlResult?> RequestCancelAsync(NpgsqlTransaction transaction, long jobId, CancellationToken cancellationToken) =>
        transaction.Connection!.QuerySingleOrDefaultAsync<JobControlResult>(new CommandDefinition("""
            update jobs
            set cancel_requested_at = coalesce(cancel_requested_at, now()),
                state = case when state = 'queued' then 'cancelled' else state end,
                finished_at = case when state = 'queued' then now() else finished_at end,
                last_error = case when state = 'queued' then 'Cancelled by an operator before it started.' else last_error end
            where id = @jobId and state in ('queued', 'running')
            returning id, kind, tenant_id, state
            """, new { jobId }, transaction, cancellationToken: cancellationToken));

    /// <summary>Queues a failed or cancelled job again, now, with <paramref name="additionalAttempts"/> more attempts.</summary>
    public Task<JobControlResult?> RetryAsync(NpgsqlTransaction transaction, long jobId, int additionalAttempts,
        CancellationToken cancellationToken) =>
        transaction.Connection!.QuerySingleOrDefaultAsync<JobControlResult>(new CommandDefinition("""
            update jobs
            set state = 'queued', run_after = now(), max_attempts = attempt + @additionalAttempts,
                cancel_requested_at = null, finished_at = null, worker_id = null, lease_expires_at = null
            where id = @jobId and state in ('failed', 'cancelled')
            returning id, kind, tenant_id, state
            """, new { jobId, additionalAttempts = Math.Max(1, additionalAttempts) }, transaction, cancellationToken: cancellationToken));

    /// <summary>Deletes a job that is not running (cancel it first), with its attempts and log.</summary>
    public Task<JobControlResult?> DeleteAsync(NpgsqlTransaction transaction, long jobId, CancellationToken cancellationToken) =>
        transaction.Connection!.QuerySingleOrDefaultAsync<JobControlResult>(new CommandDefinition("""
            delete from jobs
            where id = @jobId and state <> 'running'
            returning id, kind, tenant_id, 'deleted' as state
            """, new { jobId }, transaction, cancellationToken: cancellationToken));
}
