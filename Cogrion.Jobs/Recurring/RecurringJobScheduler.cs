using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Jobs.Recurring;

/// <summary>
/// Enqueues recurring jobs when they fall due. Every replica runs one; each due time produces
/// exactly one job because the due row is locked, the job enqueued and next_run_at moved forward in
/// one transaction: a second replica either skips the locked row (SKIP LOCKED) or, once the first
/// commits, re-checks the row, finds it no longer due, and leaves it.
/// </summary>
internal sealed class RecurringJobScheduler(
    NpgsqlDataSource dataSource,
    JobQueue queue,
    IEnumerable<RecurringJobDefinition> definitions,
    JobStoreReadiness readiness,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<RecurringJobScheduler> logger) : BackgroundService
{
    /// <summary>Even with nothing due for hours, look again this often: another build may have changed a schedule.</summary>
    private static readonly TimeSpan LongestSleep = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, RecurringJobDefinition> byName = definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);

    private sealed record DueRow(string Name, long? LastJobId, string? LastJobState, DateTimeOffset DbNow);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (byName.Count == 0 || !options.Value.RunWorkers) return;
        await readiness.WaitUntilReadyAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SynchronizeDefinitionsAsync(stoppingToken);
                break;
            }
            catch (NpgsqlException ex)
            {
                logger.LogWarning("Could not register recurring jobs: {Error}", ex.Message);
            }
            await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan sleep;
            try
            {
                sleep = await RunDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Recurring job scheduling failed: {Error}", ex.Message);
                sleep = TimeSpan.FromSeconds(Random.Shared.Next(5, 15));
            }
            try
            {
                await Task.Delay(sleep, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Records the definitions of this build; a changed schedule starts again from its first run.</summary>
    public async Task SynchronizeDefinitionsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        foreach (var definition in byName.Values)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into recurring_jobs (name, schedule, kind, next_run_at)
                values (@name, @schedule, @kind, @firstRun)
                on conflict (name) do update set
                    kind = excluded.kind,
                    schedule = excluded.schedule,
                    next_run_at = case when recurring_jobs.schedule = excluded.schedule then recurring_jobs.next_run_at else excluded.next_run_at end,
                    updated_at = now()
                where recurring_jobs.schedule <> excluded.schedule or recurring_jobs.kind <> excluded.kind
                """,
                new
                {
                    name = definition.Name,
                    schedule = definition.Schedule.Describe(),
                    kind = definition.Kind,
                    firstRun = definition.Schedule.FirstRun(time.GetUtcNow())
                },
                cancellationToken: cancellationToken));
        }
    }

    /// <summary>Enqueues what is due now and returns how long to sleep until the next due time.</summary>
    public async Task<TimeSpan> RunDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var due = await connection.QueryAsync<DueRow>(new CommandDefinition("""
                select r.name, r.last_job_id, j.state as last_job_state, now() as db_now
                from recurring_jobs r
                left join jobs j on j.id = r.last_job_id
                where r.next_run_at <= now() and r.name = any(@names)
                for update of r skip locked
                """, new { names = byName.Keys.ToArray() }, transaction, cancellationToken: cancellationToken));
            foreach (var row in due)
            {
                var definition = byName[row.Name];
                long? jobId = null;
                if (row.LastJobState is JobStates.Queued or JobStates.Running)
                    logger.LogInformation("Recurring job {Name}: the previous run (job {JobId}) is still {State}; skipping this one", row.Name,
                        row.LastJobId, row.LastJobState);
                else
                    jobId = await definition.Enqueue(queue, transaction, cancellationToken);
                await connection.ExecuteAsync(new CommandDefinition("""
                    update recurring_jobs
                    set next_run_at = @next, last_job_id = coalesce(@jobId, last_job_id), updated_at = now()
                    where name = @name
                    """, new { name = row.Name, next = definition.Schedule.NextAfter(row.DbNow), jobId }, transaction,
                        cancellationToken: cancellationToken));
            }
            await transaction.CommitAsync(cancellationToken);
        }
        var seconds = await connection.ExecuteScalarAsync<double?>(new CommandDefinition(
            "select extract(epoch from min(next_run_at) - clock_timestamp())::float8 from recurring_jobs where name = any(@names)",
            new { names = byName.Keys.ToArray() }, cancellationToken: cancellationToken));
        var sleep = seconds is { } s ? TimeSpan.FromSeconds(Math.Max(0.01, s)) : LongestSleep;
        return sleep < LongestSleep ? sleep : LongestSleep;
    }
}
