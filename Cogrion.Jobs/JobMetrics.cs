using System.Diagnostics;
using System.Diagnostics.Metrics;
using Dapper;
using Npgsql;

namespace Cogrion.Jobs;

/// <summary>
/// The engine's instruments on System.Diagnostics.Metrics (the Portal exposes them on /metrics). Tags are the kind
/// and the outcome only: never a tenant or a job id, which would make a series per tenant or job.
/// Counters and histograms are this replica's; the queue gauges are the whole cluster's, read from
/// the database by <see cref="RefreshAsync"/>, which the host calls just before a scrape (so an idle,
/// unscraped replica makes no queries for them).
/// </summary>
public sealed class JobMetrics : IDisposable
{
    public const string MeterName = "Cogrion.Jobs";

    /// <summary>The engine's spans, one per attempt, under the meter's name.</summary>
    public static readonly ActivitySource ActivitySource = new(MeterName);

    private readonly Meter meter;
    private readonly Counter<long> completed;
    private readonly Histogram<double> duration;
    private readonly Histogram<double> waitTime;
    private readonly UpDownCounter<long> running;
    private readonly NpgsqlDataSource dataSource;
    private QueueSnapshot snapshot = new(0, 0, 0, 0);

    private sealed record QueueSnapshot(long Queued, long Due, long Running, long FailedLastHour);

    public JobMetrics(IMeterFactory meterFactory, NpgsqlDataSource dataSource)
    {
        this.dataSource = dataSource;
        meter = meterFactory.Create(MeterName);
        completed = meter.CreateCounter<long>("cogrion.jobs.completed", "{attempt}", "Attempts finished on this replica, by kind and outcome.");
        duration = meter.CreateHistogram<double>("cogrion.jobs.duration", "s", "How long attempts ran on this replica.");
        waitTime = meter.CreateHistogram<double>("cogrion.jobs.wait_time", "s", "From due to started: how long jobs waited in the queue.");
        running = meter.CreateUpDownCounter<long>("cogrion.jobs.running", "{job}", "Jobs running on this replica now.");
        meter.CreateObservableGauge("cogrion.jobs.queue_depth", () => new Measurement<long>[]
        {
            new(snapshot.Queued, new KeyValuePair<string, object?>("due", "all")),
            new(snapshot.Due, new KeyValuePair<string, object?>("due", "now")),
        }, "{job}", "Queued jobs in the whole cluster: all of them, and those due now.");
        meter.CreateObservableGauge("cogrion.jobs.cluster_running", () => snapshot.Running, "{job}", "Jobs running on any replica.");
        meter.CreateObservableGauge("cogrion.jobs.failed_last_hour", () => snapshot.FailedLastHour, "{job}",
            "Jobs that ended failed in the last hour, on any replica.");
    }

    internal void Started(ClaimedJob job)
    {
        running.Add(1);
        var due = job.RunAfter > job.CreatedAt ? job.RunAfter : job.CreatedAt;
        waitTime.Record(Math.Max(0, (job.StartedAt - due).TotalSeconds), new KeyValuePair<string, object?>("kind", job.Kind));
    }

    internal void Finished(ClaimedJob job, string outcome, TimeSpan elapsed)
    {
        running.Add(-1);
        var kind = new KeyValuePair<string, object?>("kind", job.Kind);
        var result = new KeyValuePair<string, object?>("outcome", outcome);
        completed.Add(1, kind, result);
        duration.Record(elapsed.TotalSeconds, kind, result);
    }

    /// <summary>Reads the cluster-wide queue gauges from the database.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        snapshot = await connection.QuerySingleAsync<QueueSnapshot>(new CommandDefinition("""
            select count(*) filter (where state = 'queued') as queued,
                   count(*) filter (where state = 'queued' and run_after <= now()) as due,
                   count(*) filter (where state = 'running') as running,
                   (select count(*) from jobs where state = 'failed' and finished_at > now() - interval '1 hour') as failed_last_hour
            from jobs where state in ('queued', 'running')
            """, cancellationToken: cancellationToken));
    }

    public void Dispose() => meter.Dispose();

    internal static TimeSpan Elapsed(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp);
}
