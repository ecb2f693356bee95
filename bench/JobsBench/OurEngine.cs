using System.Diagnostics;
using System.Globalization;
using Cogrion.Jobs;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

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

/// <summary>A job that says when it started, for the idle latency.</summary>
public sealed record ProbeJob(long Probe) : IJobArguments
{
    public static string Kind => "bench.probe";
}

public sealed class ProbeHandler : IJobHandler<ProbeJob>
{
    public Task RunAsync(ProbeJob arguments, JobContext context)
    {
        StartedProbes.Shared.Started(arguments.Probe);
        return Task.CompletedTask;
    }
}

/// <summary>The bench has no secrets to keep: nothing to mask, no key refused.</summary>
public sealed class NoSecrets : IJobSecretRedactor
{
    public bool IsSecretKey(string key) => false;
    public string Redact(string text) => text;
}

/// <summary>Cogrion.Jobs as one replica runs it (default settings except the worker count), alone in a generic host.</summary>
public static class OurEngine
{
    private static readonly EnqueueOptions ByBench = new() { CreatedBy = "system:bench" };

    public static async Task<IHost> StartAsync(string connectionString, int workers)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Jobs:WorkersPerReplica"] = workers.ToString(CultureInfo.InvariantCulture),
        });
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.AddSingleton<IJobSecretRedactor, NoSecrets>();
        builder.Services.AddJobEngine(builder.Configuration);
        builder.Services.AddJobHandler<NoopHandler, NoopJob>();
        builder.Services.AddJobHandler<ProbeHandler, ProbeJob>();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public static async Task ResetAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        if (await connection.ExecuteScalarAsync<bool>("select to_regclass('jobs') is null")) return;
        await connection.ExecuteAsync(
            "truncate jobs, job_attempts, job_logs, job_workers, recurring_jobs, job_queue_samples restart identity cascade");
        await connection.ExecuteAsync("vacuum analyze jobs");
    }

    public static async Task<List<double>> IdleLatenciesAsync(string connectionString, int samples)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var queue = new JobQueue(new NoSecrets());
        return await Measure.IdleLatenciesAsync(samples,
            probe => queue.EnqueueAsync(dataSource, new ProbeJob(probe), ByBench, CancellationToken.None), StartedProbes.Shared);
    }

    /// <summary>Enqueues <paramref name="count"/> jobs in one transaction and measures from its commit until the last one succeeded.</summary>
    public static async Task<double> ThroughputAsync(string connectionString, int count)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var queue = new JobQueue(new NoSecrets());
        for (var i = 0; i < count; i++) await queue.EnqueueAsync(transaction, new NoopJob(), ByBench, CancellationToken.None);
        var clock = Stopwatch.StartNew();
        await transaction.CommitAsync();
        await using var watch = await dataSource.OpenConnectionAsync();
        while (await watch.ExecuteScalarAsync<long>("select count(*) from jobs where kind = 'bench.noop' and state <> 'succeeded'") > 0)
            await Task.Delay(20);
        return count / clock.Elapsed.TotalSeconds;
    }
}
