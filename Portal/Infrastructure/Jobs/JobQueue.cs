using Dapper;
using Npgsql;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Infrastructure.Jobs;

/// <summary>How to run one job, besides its arguments.</summary>
public sealed record EnqueueOptions
{
    /// <summary>Who asked for the job (shown in the console).</summary>
    public required Actor CreatedBy { get; init; }
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
public sealed class JobQueue
{
    public async Task<long> EnqueueAsync<TArguments>(
        NpgsqlTransaction transaction, TArguments arguments, EnqueueOptions options, CancellationToken cancellationToken)
        where TArguments : IJobArguments
    {
        var json = JobArgumentsGuard.Serialize(arguments);
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
                createdBy = Describe(options.CreatedBy),
                recurringName = options.RecurringName,
            },
            transaction, cancellationToken: cancellationToken));
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

    /// <summary>"user:admin", "system:recurring", "agent:3f2…": readable in the console, never a secret.</summary>
    internal static string Describe(Actor actor) => actor.Kind switch
    {
        ActorKind.User => $"user:{actor.Name ?? actor.Id}",
        ActorKind.Agent => $"agent:{actor.Id}",
        _ => $"system:{actor.Id}",
    };
}
