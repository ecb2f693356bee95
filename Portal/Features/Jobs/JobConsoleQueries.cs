using System.Text;
using Cogrion.Portal.Infrastructure.Input;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Jobs;

/// <summary>Filters of the jobs list; null means any.</summary>
public sealed record JobFilter(string? State = null, string? Kind = null, Guid? TenantId = null, DateTimeOffset? From = null,
    DateTimeOffset? To = null);

/// <summary>One line of the jobs list.</summary>
public sealed record JobListItem(
    long Id, string Kind, string State, Guid? TenantId, int Priority, string? ConcurrencyKey, int Attempt, int MaxAttempts,
    string? WorkerId, string? LastError, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset RunAfter,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, bool CancelRequested, long? QueuePosition);

public sealed record JobListPage(IReadOnlyList<JobListItem> Jobs, long Total);

/// <summary>Everything the job page shows about one job.</summary>
public sealed record JobDetail(
    long Id, string Kind, string State, string Arguments, Guid? TenantId, int Priority, string? ConcurrencyKey,
    int Attempt, int MaxAttempts, string? WorkerId, DateTimeOffset? LeaseExpiresAt, DateTimeOffset? CancelRequestedAt,
    string? LastError, string? LastErrorStack, string CreatedBy, string? RecurringName, DateTimeOffset CreatedAt,
    DateTimeOffset RunAfter, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, long? QueuePosition);

public sealed record JobAttempt(int Attempt, string? WorkerId, DateTimeOffset? StartedAt, DateTimeOffset FinishedAt, string Outcome, string? Error,
    string? StackTrace);


/// <summary>A replica's worker pool as the workers view shows it.</summary>
public sealed record JobWorker(string Id, string Host, int ProcessId, int Slots, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt,
    DateTimeOffset? StoppedAt, long JobsInHand, string? RunningJobIds);

/// <summary>One bucket of the charts.</summary>
public sealed record JobChartPoint(DateTimeOffset At, long Succeeded, long Failed, long Queued);

/// <summary>
/// Reads for the admin job console. Jobs are platform infrastructure, read by platform admins only
/// (the pages' policy), so no tenant scope applies here; the tenant is a filter, not a boundary.
/// </summary>
public sealed class JobConsoleQueries(NpgsqlDataSource dataSource)
{
    public const int MaxPageSize = 200;

    // Queue position: 1 for the job the next free worker takes, in the claim query's order
    // (priority, then age), counting only jobs already due.
    private const string QueuePositionSql = """
        case when j.state = 'queued' and j.run_after <= now() then
            (select count(*) + 1 from jobs ahead
             where ahead.state = 'queued' and ahead.run_after <= now()
               and (ahead.priority > j.priority or (ahead.priority = j.priority and ahead.id < j.id)))
        end
        """;

    public async Task<JobListPage> SearchAsync(JobFilter filter, int skip, int take, CancellationToken cancellationToken)
    {
        take = Math.Clamp(take, 1, MaxPageSize);
        var (where, parameters) = Where(filter);
        parameters.Add("skip", Math.Max(0, skip));
        parameters.Add("take", take);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"select count(*) from jobs j where {where}", parameters,
            cancellationToken: cancellationToken));
        var jobs = await connection.QueryAsync<JobListItem>(new CommandDefinition($"""
            select j.id, j.kind, j.state, j.tenant_id, j.priority, j.concurrency_key, j.attempt, j.max_attempts, j.worker_id,
                   j.last_error, j.created_by, j.created_at, j.run_after, j.started_at, j.finished_at,
                   j.cancel_requested_at is not null as cancel_requested,
                   {QueuePositionSql} as queue_position
            from jobs j
            where {where}
            order by j.id desc
            offset @skip limit @take
            """, parameters, cancellationToken: cancellationToken));
        return new JobListPage(jobs.ToList(), total);
    }

    private static (string Where, DynamicParameters Parameters) Where(JobFilter filter)
    {
        var where = new StringBuilder("true");
        var parameters = new DynamicParameters();
        // A filter text that cannot be stored matches nothing; asking PostgreSQL would be an error.
        if (!InputText.IsStorable(filter.State) || !InputText.IsStorable(filter.Kind)) where.Append(" and false");
        else if (!string.IsNullOrEmpty(filter.State)) { where.Append(" and j.state = @state"); parameters.Add("state", filter.State); }
        if (!string.IsNullOrEmpty(filter.Kind)
            && InputText.IsStorable(filter.Kind)) { where.Append(" and j.kind = @kind"); parameters.Add("kind", filter.Kind); }
        if (filter.TenantId is { } tenant) { where.Append(" and j.tenant_id = @tenantId"); parameters.Add("tenantId", tenant); }
        if (filter.From is { } from) { where.Append(" and j.created_at >= @from"); parameters.Add("from", from); }
        if (filter.To is { } to) { where.Append(" and j.created_at < @to"); parameters.Add("to", to); }
        return (where.ToString(), parameters);
    }

    /// <summary>Every kind seen in the table, for the kind filter.</summary>
    public async Task<IReadOnlyList<string>> KindsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<string>(new CommandDefinition("select distinct kind from jobs order by kind",
            cancellationToken: cancellationToken))).ToList();
    }

    public async Task<JobDetail?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<JobDetail>(new CommandDefinition($"""
            select j.id, j.kind, j.state, jsonb_pretty(j.arguments) as arguments, j.tenant_id, j.priority, j.concurrency_key,
                   j.attempt, j.max_attempts, j.worker_id, j.lease_expires_at, j.cancel_requested_at, j.last_error, j.last_error_stack,
                   j.created_by, j.recurring_name, j.created_at, j.run_after, j.started_at, j.finished_at,
                   {QueuePositionSql} as queue_position
            from jobs j where j.id = @id
            """, new { id }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<JobAttempt>> AttemptsAsync(long jobId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<JobAttempt>(new CommandDefinition("""
            select attempt, worker_id, started_at, finished_at, outcome, error, stack_trace
            from job_attempts where job_id = @jobId order by id
            """, new { jobId }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>Workers seen in the last day, live ones first.</summary>
    public async Task<IReadOnlyList<JobWorker>> WorkersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<JobWorker>(new CommandDefinition("""
            select w.id, w.host, w.process_id, w.slots, w.started_at, w.heartbeat_at, w.stopped_at,
                   count(j.id) as jobs_in_hand, string_agg(j.id::text, ', ' order by j.id) as running_job_ids
            from job_workers w
            left join jobs j on j.worker_id = w.id and j.state = 'running'
            where w.heartbeat_at > now() - interval '1 day'
            group by w.id
            order by w.stopped_at is not null, w.heartbeat_at desc
            """, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>
    /// Throughput and failures per bucket (finished attempts, so a retried failure shows as a failure
    /// when it happened), and the sampled queue depth, over the last <paramref name="span"/>.
    /// </summary>
    public async Task<IReadOnlyList<JobChartPoint>> ChartAsync(TimeSpan span, TimeSpan bucket, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<JobChartPoint>(new CommandDefinition("""
            with buckets as (
                select generate_series(
                    to_timestamp(floor(extract(epoch from now() - @span) / @bucketSeconds) * @bucketSeconds),
                    now(), make_interval(secs => @bucketSeconds)) as at
            )
            select b.at,
                   (select count(*) from job_attempts a where a.outcome = 'succeeded' and a.finished_at >= b.at and a.finished_at < b.at + make_interval(secs => @bucketSeconds)) as succeeded,
                   (select count(*) from job_attempts a where a.outcome in ('failed', 'lease_expired') and a.finished_at >= b.at and a.finished_at < b.at + make_interval(secs => @bucketSeconds)) as failed,
                   coalesce((select max(s.queued)::bigint from job_queue_samples s where s.sampled_at >= b.at and s.sampled_at < b.at + make_interval(secs => @bucketSeconds)), 0) as queued
            from buckets b
            order by b.at
            """, new { span, bucketSeconds = bucket.TotalSeconds }, cancellationToken: cancellationToken))).ToList();
    }
}
