using System.Diagnostics;
using Dapper;
using Npgsql;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Bench.Jobs;

/// <summary>A job that does nothing, so the numbers measure the engine alone.</summary>
public sealed record NoopJob : IJobArguments
{
    public static string Kind => "bench.noop";
}

public sealed class NoopHandler : IJobHandler<NoopJob>
{
    public Task RunAsync(NoopJob arguments, JobContext context) => Task.CompletedTask;
}

public static class Bench
{
    private static readonly EnqueueOptions ByBench = new() { CreatedBy = Actor.System("bench") };

    public static async Task ResetAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync("truncate jobs, job_attempts, job_logs, job_workers, recurring_jobs, job_queue_samples restart identity cascade");
        await connection.ExecuteAsync("vacuum analyze jobs");
    }

    /// <summary>
    /// One job at a time into an idle replica: the time from the enqueue's commit to the claim, on
    /// the database's clock (created_at is the enqueue transaction's start, started_at the claim's).
    /// </summary>
    public static async Task<List<double>> IdleLatenciesAsync(string connectionString, int samples)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var queue = new JobQueue();
        var ids = new List<long>();
        for (var i = 0; i < samples; i++)
        {
            var id = await queue.EnqueueAsync(dataSource, new NoopJob(), ByBench, CancellationToken.None);
            ids.Add(id);
            await using var connection = await dataSource.OpenConnectionAsync();
            while (await connection.ExecuteScalarAsync<string>("select state from jobs where id = @id", new { id }) != JobStates.Succeeded)
                await Task.Delay(2);
            // Idle again before the next one: the pool is back waiting on its signal.
            await Task.Delay(20);
        }
        await using var read = await dataSource.OpenConnectionAsync();
        return (await read.QueryAsync<double>(
            "select extract(epoch from started_at - created_at) * 1000 from jobs where id = any(@ids)", new { ids = ids.ToArray() })).ToList();
    }

    /// <summary>Enqueues <paramref name="count"/> jobs in one transaction and measures until the last one succeeded.</summary>
    public static async Task<double> ThroughputAsync(string connectionString, int count)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            // Enqueued through the engine's own statement, in one transaction: the workers see them all at commit.
            await using var transaction = await connection.BeginTransactionAsync();
            var queue = new JobQueue();
            for (var i = 0; i < count; i++) await queue.EnqueueAsync(transaction, new NoopJob(), ByBench, CancellationToken.None);
            var clock = Stopwatch.StartNew();
            await transaction.CommitAsync();
            await using var watch = await dataSource.OpenConnectionAsync();
            while (await watch.ExecuteScalarAsync<long>("select count(*) from jobs where kind = 'bench.noop' and state <> 'succeeded'") > 0)
                await Task.Delay(20);
            return count / clock.Elapsed.TotalSeconds;
        }
    }

    /// <summary>Counts the commands the engine sends (Npgsql reports each one as an Activity) while nothing happens.</summary>
    public static async Task<long> CountQueriesAsync(TimeSpan span)
    {
        long queries = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity => { if (activity.Kind == ActivityKind.Client) Interlocked.Increment(ref queries); },
        };
        ActivitySource.AddActivityListener(listener);
        await Task.Delay(span);
        return Interlocked.Read(ref queries);
    }

    public static double Percentile(List<double> values, int percentile)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        var index = (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }
}
