using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Jobs.Housekeeping;

/// <summary>Records the queue depth once a minute, for the console's queue-depth chart.</summary>
public sealed record SampleQueueDepthJob : IJobArguments
{
    public static string Kind => "jobs.sample-queue-depth";
    static JobPolicy IJobArguments.Policy => new(1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
}

public sealed class SampleQueueDepthHandler(NpgsqlDataSource dataSource) : IJobHandler<SampleQueueDepthJob>
{
    public async Task RunAsync(SampleQueueDepthJob arguments, JobContext context)
    {
        await using var connection = await dataSource.OpenConnectionAsync(context.CancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into job_queue_samples (sampled_at, queued, running)
            select date_trunc('minute', now()),
                   count(*) filter (where state = 'queued' and run_after <= now()),
                   -- This job itself is running while it counts: leave it out.
                   count(*) filter (where state = 'running') - 1
            from jobs where state in ('queued', 'running')
            on conflict (sampled_at) do nothing
            """, cancellationToken: context.CancellationToken));
    }
}

/// <summary>Deletes finished jobs (with their logs and attempts), old samples and long-gone workers after the retention period.</summary>
public sealed record PruneJobsJob : IJobArguments
{
    public static string Kind => "jobs.prune";
}

public sealed class PruneJobsHandler(NpgsqlDataSource dataSource, IOptions<JobsOptions> options) : IJobHandler<PruneJobsJob>
{
    public async Task RunAsync(PruneJobsJob arguments, JobContext context)
    {
        await using var connection = await dataSource.OpenConnectionAsync(context.CancellationToken);
        var deleted = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            with old_jobs as (
                delete from jobs where state in ('succeeded', 'failed', 'cancelled') and finished_at < now() - @retention
                returning id
            ), old_samples as (
                delete from job_queue_samples where sampled_at < now() - @retention
            ), old_workers as (
                delete from job_workers where heartbeat_at < now() - interval '1 day'
            )
            select count(*) from old_jobs
            """, new { retention = options.Value.Retention }, cancellationToken: context.CancellationToken));
        await context.AppendLogAsync($"Deleted {deleted} finished job(s) older than {options.Value.Retention.TotalDays:0.#} day(s).");
    }
}
