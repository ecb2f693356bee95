// No-op jobs through the real job engine (Cogrion.Jobs) against a real PostgreSQL (bench/jobs.sh starts one).
// Prints, for 1, 4 and 16 workers: throughput and idle enqueue-to-start latency (p50/p99), then the
// queries an idle replica sends per second. The last line is "jobs/s: N" (the best run).
// With a second connection string (bench/jobs.sh --compare hangfire), Hangfire.PostgreSql is measured
// the same way on its own database in the same run, and both engines' figures are printed side by side.
using System.Globalization;
using Cogrion.Bench.Jobs;
using Hangfire;

var connectionString = args.ElementAtOrDefault(0)
    ?? throw new ArgumentException("usage: JobsBench <connection string> [jobs per run] [idle seconds] [hangfire connection string]");
var jobsPerRun = int.Parse(args.ElementAtOrDefault(1) ?? "20000", CultureInfo.InvariantCulture);
var idleSeconds = int.Parse(args.ElementAtOrDefault(2) ?? "60", CultureInfo.InvariantCulture);
var hangfireConnectionString = args.ElementAtOrDefault(3);
const int samples = 200;

string Line(FormattableString text) => FormattableString.Invariant(text);

var figures = new List<EngineFigures>();
var best = 0d;
double ours16 = 0, oursP50 = 0, oursP99 = 0;
foreach (var workers in new[] { 1, 4, 16 })
{
    await OurEngine.ResetAsync(connectionString);
    using var host = await OurEngine.StartAsync(connectionString, workers);
    await Task.Delay(1000); // Let the pool, the listener and the scheduler settle into idle.

    var latencies = await OurEngine.IdleLatenciesAsync(connectionString, samples);
    var throughput = await OurEngine.ThroughputAsync(connectionString, jobsPerRun);
    best = Math.Max(best, throughput);
    if (workers == 16) (ours16, oursP50, oursP99) = (throughput, Measure.Percentile(latencies, 50), Measure.Percentile(latencies, 99));
    Console.WriteLine(Line($"cogrion    workers={workers,-3} throughput={throughput,8:0} jobs/s   idle enqueue-to-start ")
        + Line($"p50={Measure.Percentile(latencies, 50),7:0.0} ms  p99={Measure.Percentile(latencies, 99),7:0.0} ms"));
    await host.StopAsync();
}
{
    await OurEngine.ResetAsync(connectionString);
    using var host = await OurEngine.StartAsync(connectionString, 4);
    await Task.Delay(3000); // Past start-up (registration, first claim, recurring definitions).
    var queries = await Measure.CountQueriesAsync(TimeSpan.FromSeconds(idleSeconds));
    Console.WriteLine(Line($"cogrion    idle replica (4 workers, default intervals): {queries} queries in {idleSeconds} s = ")
        + Line($"{queries / (double)idleSeconds:0.00} queries/s"));
    figures.Add(new EngineFigures("Cogrion.Jobs", ours16, oursP50, oursP99, queries / (double)idleSeconds));
    await host.StopAsync();
}

if (hangfireConnectionString is not null)
{
    HangfireEngine.UseStorage(hangfireConnectionString);
    var throughput = await HangfireEngine.ThroughputAsync(Math.Min(jobsPerRun, 5000), 16);
    Console.WriteLine(Line($"hangfire   workers=16  throughput={throughput,8:0} jobs/s ({Math.Min(jobsPerRun, 5000)} jobs)"));
    List<double> latencies;
    double queriesPerSecond;
    using (var server = HangfireEngine.Start(16))
    {
        await Task.Delay(3000);
        latencies = await HangfireEngine.IdleLatenciesAsync(samples);
        Console.WriteLine(Line($"hangfire   workers=16  idle enqueue-to-start p50={Measure.Percentile(latencies, 50),7:0.0} ms  ")
            + Line($"p99={Measure.Percentile(latencies, 99),7:0.0} ms"));
    }
    using (var server = HangfireEngine.Start(4))
    {
        await Task.Delay(3000);
        var queries = await Measure.CountQueriesAsync(TimeSpan.FromSeconds(idleSeconds));
        queriesPerSecond = queries / (double)idleSeconds;
        Console.WriteLine(Line($"hangfire   idle server (4 workers, default intervals): {queries} queries in {idleSeconds} s = ")
            + Line($"{queriesPerSecond:0.00} queries/s"));
    }
    figures.Add(new EngineFigures("Hangfire.PostgreSql 1.21.1", throughput, Measure.Percentile(latencies, 50), Measure.Percentile(latencies, 99),
        queriesPerSecond));

    Console.WriteLine();
    Console.WriteLine(Line($"{"engine",-28} {"jobs/s (16 workers)",20} {"idle p50 ms",12} {"idle p99 ms",12} {"idle queries/s",15}"));
    foreach (var f in figures)
        Console.WriteLine(Line($"{f.Engine,-28} {f.Throughput16,20:0} {f.IdleP50,12:0.0} {f.IdleP99,12:0.0} {f.IdleQueriesPerSecond,15:0.00}"));
}

Console.WriteLine(Line($"jobs/s: {best:0}"));
