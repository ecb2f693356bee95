using Dapper;
using Npgsql;

namespace Cogrion.Jobs;

/// <summary>A job whose lease ran out, as the reaper left it.</summary>
internal sealed record ReapedJob(long Id, string Kind, string State, string? PreviousWorker);

/// <summary>Leases: renewed by the worker that holds them, reclaimed by anyone when they run out.</summary>
internal sealed class JobLeases(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// One statement per heartbeat, however many jobs the replica holds: says the worker is alive
    /// (the workers view), renews the lease of every job in hand, and returns those an operator asked
    /// to cancel (the fallback should the NOTIFY have been missed).
    /// </summary>
    public async Task<IReadOnlyList<long>> HeartbeatAsync(WorkerIdentity worker, int slots, IReadOnlyCollection<long> jobsInHand, TimeSpan lease,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var cancelRequested = await connection.QueryAsync<long>(new CommandDefinition("""
            with worker as (
                insert into job_workers (id, host, process_id, slots)
                values (@id, @host, @processId, @slots)
                on conflict (id) do update set heartbeat_at = now(), stopped_at = null, slots = excluded.slots
            ), renewed as (
                update jobs set lease_expires_at = now() + @lease
                where id = any(@jobs) and worker_id = @id and state = 'running'
                returning id, cancel_requested_at
            )
            select id from renewed where cancel_requested_at is not null
            """,
            new { id = worker.Id, host = worker.Host, processId = worker.ProcessId, slots, jobs = jobsInHand.ToArray(), lease },
            cancellationToken: cancellationToken));
        return cancelRequested.ToList();
    }

    /// <summary>The replica stops: the workers view shows it as stopped rather than lost.</summary>
    public async Task MarkStoppedAsync(WorkerIdentity worker, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "update job_workers set stopped_at = now(), heartbeat_at = now() where id = @id",
            new { id = worker.Id }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Ends every attempt whose lease has run out: the worker died or froze. The job goes back to the
    /// queue at once while attempts remain (a crash is not the job's fault, but it might be, so it
    /// counts), fails with a reason that says what happened once they are spent, and is cancelled if
    /// an operator had asked for that.
    /// </summary>
    /// <remarks>
    /// Safe on every replica at once, which is why there is no leader election: the expired rows are
    /// locked with SKIP LOCKED, so two reapers split them instead of both handling one, and the
    /// update's own condition (still running, lease still expired) is rechecked on the locked row, so
    /// a job whose worker renewed or finished a moment ago is left alone. A worker that comes back
    /// after being reaped finds its job gone: JobOutcomes' guard refuses its report.
    /// </remarks>
    public async Task<IReadOnlyList<ReapedJob>> ReapExpiredAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var reaped = await connection.QueryAsync<ReapedJob>(new CommandDefinition("""
            with expired as (
                select id, attempt, worker_id, started_at, lease_expires_at, cancel_requested_at
                from jobs
                where state = 'running' and lease_expires_at < now()
                for update skip locked
            ), reaped as (
                update jobs j
                set state = case when e.cancel_requested_at is not null then 'cancelled'
                                 when j.attempt < j.max_attempts then 'queued'
                                 else 'failed' end,
                    finished_at = case when e.cancel_requested_at is null and j.attempt < j.max_attempts then null else now() end,
                    run_after = now(),
                    worker_id = case when e.cancel_requested_at is null and j.attempt < j.max_attempts then null else j.worker_id end,
                    lease_expires_at = null,
                    last_error = 'Worker ' || e.worker_id || ' stopped renewing its lease (its process died or froze); the lease expired at '
                                 || to_char(e.lease_expires_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC.'
                                 || case when j.attempt < j.max_attempts then '' else ' No attempts were left.' end,
                    last_error_stack = null
                from expired e
                where j.id = e.id
                returning j.id, j.kind, j.state, j.last_error
            ), recorded as (
                insert into job_attempts (job_id, attempt, worker_id, started_at, finished_at, outcome, error)
                select e.id, e.attempt, e.worker_id, e.started_at, now(), 'lease_expired', r.last_error
                from expired e join reaped r on r.id = e.id
            )
            select r.id, r.kind, r.state, e.worker_id as previous_worker
            from reaped r join expired e on e.id = r.id
            """, cancellationToken: cancellationToken));
        return reaped.ToList();
    }
}
