using Cogrion.Jobs;
using Cogrion.Jobs.Tests;
using Cogrion.Portal.Features.Jobs;
using Cogrion.Portal.Tests.Infrastructure;
using Npgsql;

namespace Cogrion.Portal.Tests.Jobs;

/// <summary>The console's reads against real rows: list, queue positions, detail, attempts, log, workers, charts.</summary>
public sealed class JobConsoleQueriesTests
{
    [Fact]
    public async Task Queued_jobs_show_their_position_in_claim_order_priority_first_then_age()
    {
        var db = await PortalJobDatabase.CreateAsync();
        var first = await db.EnqueueAsync(new CountingJob("q"));
        var second = await db.EnqueueAsync(new CountingJob("q"));
        var urgent = await db.EnqueueAsync(new CountingJob("q"), JobTestDatabase.ByTest with { Priority = 10 });
        var later = await db.EnqueueAsync(new CountingJob("q"), JobTestDatabase.ByTest with { RunAfter = DateTimeOffset.UtcNow.AddHours(1) });
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var queries = new JobConsoleQueries(dataSource);

        var page = await queries.SearchAsync(new JobFilter(State: JobStates.Queued), 0, 50, CancellationToken.None);

        var positions = page.Jobs.ToDictionary(j => j.Id, j => j.QueuePosition);
        Assert.Equal(1, positions[urgent]);
        Assert.Equal(2, positions[first]);
        Assert.Equal(3, positions[second]);
        Assert.Null(positions[later]);
        Assert.Equal(4, page.Total);
    }

    [Fact]
    public async Task A_finished_job_shows_its_detail_attempts_log_worker_and_place_in_the_charts()
    {
        var db = await PortalJobDatabase.CreateAsync();
        await using var host = await JobEngineHost.StartAsync(db.ConnectionString);
        var id = await db.EnqueueAsync(new SlowJob(JobLedger.NewRun(), 10));
        await db.WaitForStateAsync(id, JobStates.Succeeded);
        await db.ExecuteAsync("insert into job_queue_samples (sampled_at, queued, running) values (date_trunc('minute', now()), 3, 1) on conflict " +
            "(sampled_at) do update set queued = 3");
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var queries = new JobConsoleQueries(dataSource);

        var detail = await queries.FindAsync(id, CancellationToken.None);
        var attempts = await queries.AttemptsAsync(id, CancellationToken.None);
        var log = await new JobLogReader(dataSource).ReadAsync(id, 0, 100, CancellationToken.None);
        var workers = await Eventually.ValueAsync(() => queries.WorkersAsync(CancellationToken.None), w => w.Count == 1, "the worker to register");
        var chart = await queries.ChartAsync(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1), CancellationToken.None);
        var kinds = await queries.KindsAsync(CancellationToken.None);

        Assert.Equal(JobStates.Succeeded, detail?.State);
        Assert.Contains("\"milliseconds\": 10", detail?.Arguments);
        Assert.Equal(AttemptOutcomes.Succeeded, Assert.Single(attempts).Outcome);
        Assert.Equal("sleeping 10 ms", Assert.Single(log).Line);
        Assert.Equal(host.WorkerId, workers[0].Id);
        Assert.True(chart.Count >= 60);
        Assert.True(chart.Sum(p => p.Succeeded) >= 1);
        Assert.Equal(3, chart.Max(p => p.Queued));
        Assert.Contains(SlowJob.Kind, kinds);
        Assert.Null(await queries.FindAsync(id + 1000, CancellationToken.None));
    }
}
