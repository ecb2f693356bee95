using Dapper;
using Npgsql;

namespace Cogrion.Jobs;

/// <summary>Takes claimable jobs off the queue for one worker pool.</summary>
internal sealed class JobClaimer(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Claims up to <paramref name="limit"/> jobs in one statement and, when the queue ran dry,
    /// reports when the next delayed job falls due, so an idle pool can sleep exactly that long.
    /// </summary>
    /// <remarks>
    /// Why <c>FOR UPDATE SKIP LOCKED</c>: every replica runs this query at the same moment after a
    /// NOTIFY. Plain <c>FOR UPDATE</c> would make them queue behind one another's row locks and then
    /// find the rows taken; <c>SKIP LOCKED</c> lets each one walk past rows another claimer holds and
    /// take the next ones, so N replicas claim N different jobs without waiting, and a row is only
    /// ever claimed by the one transaction that locked it.
    ///
    /// The concurrency-key rule ("at most one active job per key, the others wait in order") is the
    /// NOT EXISTS: a keyed job is claimable only when no job of its key is running and no older one
    /// is still queued. A second claimer that skips the locked head of a key still sees that head as
    /// queued in its snapshot, so it cannot take the one behind it. The unique index
    /// jobs_one_running_per_key backs the rule up.
    ///
    /// Only kinds this build can run are claimed, so a replica of an older build during a rolling
    /// deployment leaves new kinds to the replicas that know them.
    /// </remarks>
    public async Task<ClaimResult> ClaimAsync(string workerId, int limit, IReadOnlyCollection<string> kinds, TimeSpan lease,
        CancellationToken cancellationToken)
    {
        var kindArray = kinds.ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Once sent, the claim is not abandoned: a shutdown cancelling it after its commit would leave the jobs running in the
        // database and in no one's hands until their leases ran out. It is one short statement; the pool stops right after.
        var claimed = (await connection.QueryAsync<ClaimedJob>(new CommandDefinition("""
            with candidates as (
                select j.id
                from jobs j
                where j.state = 'queued'
                  and j.run_after <= now()
                  and j.kind = any(@kinds)
                  and (j.concurrency_key is null or not exists (
                        select 1 from jobs other
                        where other.concurrency_key = j.concurrency_key
                          and other.id <> j.id
                          and (other.state = 'running' or (other.state = 'queued' and other.id < j.id))))
                order by j.priority desc, j.id
                limit @limit
                for update skip locked
            )
            update jobs j
            set state = 'running',
                attempt = j.attempt + 1,
                worker_id = @workerId,
                started_at = now(),
                lease_expires_at = now() + @lease,
                finished_at = null
            from candidates c
            where j.id = c.id
            returning j.id, j.kind, j.arguments::text as arguments, j.tenant_id, j.attempt, j.max_attempts,
                      j.concurrency_key, j.created_at, j.run_after, j.started_at
            """,
            new { workerId, limit, kinds = kindArray, lease },
            cancellationToken: CancellationToken.None))).ToList();
        // A full batch means the queue is busy: the pool comes straight back, no need to know more.
        if (claimed.Count == limit) return new ClaimResult(claimed, null);

        // Seconds until the earliest job waiting for its time (a retry's backoff, a delayed job) is
        // due, on the database's clock (the one run_after was written with), so replicas with
        // skewed clocks still wake on time. Jobs already due but not claimable (behind a
        // concurrency key) are left out: the 'wake' notification announces them.
        double? secondsUntilNextDue;
        try
        {
            secondsUntilNextDue = await connection.ExecuteScalarAsync<double?>(new CommandDefinition("""
                select extract(epoch from min(run_after) - clock_timestamp())::float8
                from jobs where state = 'queued' and run_after > now() and kind = any(@kinds)
                """, new { kinds = kindArray }, cancellationToken: cancellationToken));
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the jobs just claimed still go to the pool, which hands them back.
            return new ClaimResult(claimed, null);
        }
        return new ClaimResult(claimed, secondsUntilNextDue is { } s ? TimeSpan.FromSeconds(Math.Max(0, s)) : null);
    }
}

/// <summary>The jobs claimed, and how long until the earliest delayed job becomes due (null: none waits for its time).</summary>
internal sealed record ClaimResult(IReadOnlyList<ClaimedJob> Jobs, TimeSpan? NextDueIn);
