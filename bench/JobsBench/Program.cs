// No-op jobs through the real job engine against a real PostgreSQL (bench/jobs.sh starts one).
// Prints, for 1, 4 and 16 workers: throughput, idle enqueue-to-start latency (p50/p99), then the
// number of queries an idle replica sends per second. The last line is "jobs/s: N" (the best run).
using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Cogrion.Bench.Jobs;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Jobs;

var connectionString = args.ElementAtOrDefault(0) ?? throw new ArgumentException("usage: JobsBench <connection string> [jobs per run] [idle seconds]");
var jobsPerRun = int.Parse(args.ElementAtOrDefault(1) ?? "20000", CultureInfo.InvariantCulture);
var idleSeconds = int.Parse(args.ElementAtOrDefault(2) ?? "60", CultureInfo.InvariantCulture);

DapperConventions.Register();
await using (var migrate = NpgsqlDataSource.Create(connectionString))
    await new MigrationRunner(migrate, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);

var best = 0d;
foreach (var workers in new[] { 1, 4, 16 })
{
    await Bench.ResetAsync(connectionString);
    await using var host = await BenchHost.StartAsync(connectionString, workers);
    await Task.Delay(1000); // Let the pool, the listener and the scheduler settle into idle.

    var latencies = await Bench.IdleLatenciesAsync(connectionString, samples: 200);
    var throughput = await Bench.ThroughputAsync(connectionString, jobsPerRun);
    best = Math.Max(best, throughput);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"workers={workers,-3} throughput={throughput,8:0} jobs/s   idle enqueue-to-start p50={Bench.Percentile(latencies, 50),6:0.0} ms  p99={Bench.Percentile(latencies, 99),6:0.0} ms"));
}

{
    await Bench.ResetAsync(connectionString);
    await using var host = await BenchHost.StartAsync(connectionString, 4);
    await Task.Delay(3000); // Past start-up (registration, first claim, recurring definitions).
    var queries = await Bench.CountQueriesAsync(TimeSpan.FromSeconds(idleSeconds));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"idle replica (4 workers, default intervals): {queries} queries in {idleSeconds} s = {queries / (double)idleSeconds:0.00} queries/s"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"jobs/s: {best:0}"));
