using Dapper;
using Npgsql;

namespace Cogrion.Jobs;

/// <summary>How to run one job, besides its arguments.</summary>
public sealed record EnqueueOptions
{
    /// <summary>
    /// Who asked for the job, as people should read it in the console: <c>user:admin</c>,
    /// <c>agent:3f2…</c>, <c>system:recurring:jobs.prune</c>. Never a secret.
    /// </summary>
    public required string CreatedBy { get; init; }
    public Guid? TenantId { get; init; }
    /// <summary>At most one active job per key (e.g. <c>workspace:{id}</c>); the others wait in enqueue order.</summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>Higher runs first.</summary>
    public int Priority { get; init; }
    /// <summary>Not before this instant (database clock); now when null.</summary>
    public DateTimeOffset? RunAfter { get; init; }
    /// <summary>Overrides the kind's <see cref="JobPolicy.MaxAttempts"/>.</summary>
    public int? MaxAttempts { get; init; }
    internal string? RecurringName { get; init; }
}

/// <summary>
/// Puts jobs on the queue, inside the caller's transaction: the job exists if and only if the change
/// that asked for it commits (a workspace row and its provisioning run, never one without the other).
/// Workers hear of it through the NOTIFY that the insert trigger sends, which PostgreSQL delivers at commit.
/// </summary>
public sealed class JobQueue(IJobSecretRedactor redactor)
{
    public async Task<long> EnqueueAsync<TArguments>(
        NpgsqlTransaction transaction, TArguments arguments, EnqueueOptions options, CancellationToken cancellationToken)
        where TArguments : IJobArguments
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.CreatedBy);
        var json = JobArgumentsGuard.Serialize(arguments, redactor);
        var maxAttempts = options.MaxAttempts ?? TArguments.Policy.MaxAttempts;
        if (maxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(options), maxAttempts, "A job needs at least one attempt.");
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has no open connection.");
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            insert into jobs (kind, arguments, tenant_id, priority, concurrency_key, run_after, max_attempts, created_by, recurring_name)
            values (@kind, @arguments::jsonb, @tenantId, @priority, @concurrencyKey, coalesce(@runAfter, now()), @maxAttempts, @createdBy, @recurringName)
            returning id
            """,
            new
            {
                kind = TArguments.Kind,
                arguments = json,
                tenantId = options.TenantId,
                priority = options.Priority,
                concurrencyKey = options.ConcurrencyKey,
                runAfter = options.RunAfter,
                maxAttempts,
                createdBy = options.CreatedBy,
                recurringName = options.RecurringName,
            },
            transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Brings the queued jobs of <paramref name="concurrencyKey"/> that wait for a later <c>run_after</c> forward to now, and wakes the
    /// workers: for a job that looks again later at something outside (an agent's answer, a run), once that something changed. A job
    /// already due, running or finished is left as it is. Returns how many jobs were brought forward.
    /// </summary>
    public async Task<int> WakeAsync(NpgsqlDataSource dataSource, string concurrencyKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(concurrencyKey);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // run_after is not a column the change trigger watches: the notification is sent here, at commit like the trigger's.
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition("""
            with woken as (
                update jobs set run_after = now()
                where state = 'queued' and concurrency_key = @concurrencyKey and run_after > now()
                returning id)
            select count(pg_notify('portal_jobs', 'queued:' || id))::int from woken
            """, new { concurrencyKey }, cancellationToken: cancellationToken));
    }

    /// <summary>Enqueues in a transaction of its own, for callers with no domain change to tie the job to.</summary>
    public async Task<long> EnqueueAsync<TArguments>(
        NpgsqlDataSource dataSource, TArguments arguments, EnqueueOptions options, CancellationToken cancellationToken)
        where TArguments : IJobArguments
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var id = await EnqueueAsync(transaction, arguments, options, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return id;
    }
}
