using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;

namespace Cogrion.Bench.Jobs;

/// <summary>The jobs Hangfire runs: a method call, as Hangfire stores them.</summary>
public static class HangfireJobs
{
    public static void Noop()
    {
    }

    public static void Probe(long probe) => StartedProbes.Shared.Started(probe);
}

/// <summary>
/// Hangfire.PostgreSql at its defaults (a 15 s queue poll, a 30 min invisibility timeout) in this
/// process, on a database of its own on the same server: the figures ADR 0015 compares with ours.
/// Its enqueue wakes the workers of the same process at once; another process would wait for the poll.
/// </summary>
public static class HangfireEngine
{
    public static void UseStorage(string connectionString) =>
        GlobalConfiguration.Configuration
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(options => options.UseNpgsqlConnection(connectionString),
                new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = true });

    public static BackgroundJobServer Start(int workers) =>
        new(new BackgroundJobServerOptions { WorkerCount = workers, Queues = ["default"] });

    /// <summary>Enqueues <paramref name="count"/> jobs with no server running, then starts one and measures until the last one succeeded.</summary>
    public static async Task<double> ThroughputAsync(int count, int workers)
    {
        var monitor = JobStorage.Current.GetMonitoringApi();
        var before = monitor.SucceededListCount();
        // Hangfire enqueues one job per transaction; enqueued in parallel so the setup does not take minutes.
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            (_, _) => { BackgroundJob.Enqueue(() => HangfireJobs.Noop()); return ValueTask.CompletedTask; });
        var clock = Stopwatch.StartNew();
        using var server = Start(workers);
        while (monitor.SucceededListCount() - before < count)
            await Task.Delay(20);
        return count / clock.Elapsed.TotalSeconds;
    }

    public static Task<List<double>> IdleLatenciesAsync(int samples) =>
        Measure.IdleLatenciesAsync(samples, probe =>
        {
            BackgroundJob.Enqueue(() => HangfireJobs.Probe(probe));
            return Task.CompletedTask;
        }, StartedProbes.Shared);
}
