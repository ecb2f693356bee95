using Cogrion.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cogrion.Jobs.Tests;

/// <summary>Leases, the reaper, cancellation and shutdown: what happens when a worker goes away or is told to stop.</summary>
public sealed class JobLeaseTests
{
    /// <summary>Makes a job look as if a replica that has since died claimed it: running, its lease already run out.</summary>
    private static Task ClaimByDeadWorkerAsync(JobTestDatabase db, long id) => db.ExecuteAsync("""
        update jobs set state = 'running', attempt = attempt + 1, worker_id = 'dead-host:4242:abcdef',
                        started_at = now() - interval '1 minute', lease_expires_at = now() - interval '1 second'
        where id = @id
        """, new { id });

    [Fact]
    public async Task A_job_whose_lease_expired_is_reclaimed_and_completed_by_a_live_replica()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        var id = await db.EnqueueAsync(new CountingJob(run), JobTestDatabase.ByTest with { RunAfter = DateTimeOffset.UtcNow.AddHours(1) });
        await ClaimByDeadWorkerAsync(db, id);

        await using var host = await JobEngineHost.StartAsync(db.ConnectionString);

        var job = await db.WaitForStateAsync(id, JobStates.Succeeded);
        Assert.Equal(2, job.Attempt);
        Assert.Equal(host.Worker.Id, job.WorkerId);
        var attempts = await db.AttemptsAsync(id);
        Assert.Equal([AttemptOutcomes.LeaseExpired, AttemptOutcomes.Succeeded], attempts.Select(a => a.Outcome));
        Assert.Equal("dead-host:4242:abcdef", attempts[0].WorkerId);
        Assert.Contains("Worker dead-host:4242:abcdef stopped renewing its lease", attempts[0].Error);
        Assert.Single(JobLedger.For(run));
    }

    [Fact]
    public async Task A_job_out_of_attempts_whose_lease_expired_fails_saying_what_happened()
    {
        var db = await JobTestDatabase.CreateAsync();
        var id = await db.EnqueueAsync(new CountingJob(JobLedger.NewRun()), JobTestDatabase.ByTest with { MaxAttempts = 1 });
        await ClaimByDeadWorkerAsync(db, id);

        await using var host = await JobEngineHost.StartAsync(db.ConnectionString);

        var job = await db.WaitForStateAsync(id, JobStates.Failed);
        Assert.Contains("stopped renewing its lease (its process died or froze)", job.LastError);
        Assert.Contains("No attempts were left.", job.LastError);
    }

    [Fact]
    public async Task A_running_job_keeps_its_lease_while_its_worker_heartbeats()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        // Runs for three lease durations: without renewal the reaper would take it away.
        await using var host = await JobEngineHost.StartAsync(db.ConnectionString, new Dictionary<string,
            string?>
        { ["Jobs:LeaseDuration"] = "00:00:01.200", ["Jobs:HeartbeatInterval"] = "00:00:00.300" });

        var id = await db.EnqueueAsync(new SlowJob(run, 3600));

        var job = await db.WaitForStateAsync(id, JobStates.Succeeded);
        Assert.Equal(1, job.Attempt);
        Assert.Equal([AttemptOutcomes.Succeeded], (await db.AttemptsAsync(id)).Select(a => a.Outcome));
    }

    [Fact]
    public async Task Cancelling_on_one_replica_stops_the_job_on_the_replica_running_it()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        // Heartbeats a minute apart: the cancellation can only arrive within the wait below through NOTIFY. (The wait is generous
        // for a loaded machine and still half the first heartbeat's distance, which a 20 s beat and a 5 s wait were not.)
        var slowHeartbeat = new Dictionary<string, string?> { ["Jobs:LeaseDuration"] = "00:03:00", ["Jobs:HeartbeatInterval"] = "00:01:00" };
        await using var runner = await JobEngineHost.StartAsync(db.ConnectionString, slowHeartbeat);
        await using var other = await JobEngineHost.StartAsync(db.ConnectionString, new Dictionary<string,
            string?>(slowHeartbeat)
        { ["Jobs:RunWorkers"] = "false" });
        var id = await db.EnqueueAsync(new SlowJob(run, 60_000));
        await db.WaitForStateAsync(id, JobStates.Running);

        await using (var connection = await other.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await other.Services.GetRequiredService<JobControl>().RequestCancelAsync(transaction, id, CancellationToken.None);
            await transaction.CommitAsync();
        }

        var job = await db.WaitForStateAsync(id, JobStates.Cancelled, TimeSpan.FromSeconds(30));
        Assert.Equal("Cancelled by an operator.", job.LastError);
        Assert.Equal(runner.Worker.Id, job.WorkerId);
        Assert.DoesNotContain(JobLedger.For(run), e => e.Event == "finished");
    }

    [Fact]
    public async Task A_job_that_ignores_cancellation_is_abandoned_after_the_grace_period()
    {
        var db = await JobTestDatabase.CreateAsync();
        await using var host = await JobEngineHost.StartAsync(db.ConnectionString, new Dictionary<string,
            string?>
        { ["Jobs:CancelGracePeriod"] = "00:00:00.500" });
        var id = await db.EnqueueAsync(new SlowJob(JobLedger.NewRun(), 30_000, IgnoreCancellation: true));
        await db.WaitForStateAsync(id, JobStates.Running);

        await using (var connection = await host.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await host.Services.GetRequiredService<JobControl>().RequestCancelAsync(transaction, id, CancellationToken.None);
            await transaction.CommitAsync();
        }

        var job = await db.WaitForStateAsync(id, JobStates.Cancelled);
        Assert.Contains("did not stop within the grace period", job.LastError);
        // The worker lets go of the job right after recording it abandoned: the two are not one step.
        var pool = host.Services.GetRequiredService<JobWorkerPool>();
        await Eventually.ValueAsync(() => Task.FromResult(pool.JobsInHand.Count), count => count == 0, "the worker to let go of the abandoned job");
    }

    [Fact]
    public async Task A_queued_job_that_is_cancelled_never_runs()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        var due = DateTimeOffset.UtcNow.AddSeconds(2);
        var id = await db.EnqueueAsync(new CountingJob(run), JobTestDatabase.ByTest with { RunAfter = due });
        await using var host = await JobEngineHost.StartAsync(db.ConnectionString);

        await using (var connection = await host.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var result = await host.Services.GetRequiredService<JobControl>().RequestCancelAsync(transaction, id, CancellationToken.None);
            await transaction.CommitAsync();
            Assert.Equal(JobStates.Cancelled, result?.State);
        }

        // Due at the same moment and enqueued after it: once this one has run, the cancelled job had its turn.
        var after = await db.EnqueueAsync(new CountingJob(JobLedger.NewRun()), JobTestDatabase.ByTest with { RunAfter = due });
        await db.WaitForStateAsync(after, JobStates.Succeeded);
        Assert.Equal(JobStates.Cancelled, (await db.JobAsync(id)).State);
        Assert.Empty(JobLedger.For(run));
    }

    [Fact]
    public async Task Graceful_shutdown_hands_unfinished_jobs_back_without_counting_the_attempt()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        var host = await JobEngineHost.StartAsync(db.ConnectionString, new Dictionary<string,
            string?>
        { ["Jobs:ShutdownGracePeriod"] = "00:00:00.300" });
        var id = await db.EnqueueAsync(new SlowJob(run, 60_000));
        await db.WaitForStateAsync(id, JobStates.Running);

        await host.DisposeAsync();

        var job = await db.JobAsync(id);
        Assert.Equal(JobStates.Queued, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Null(job.WorkerId);
        var attempt = Assert.Single(await db.AttemptsAsync(id));
        Assert.Equal(AttemptOutcomes.Released, attempt.Outcome);
        Assert.Equal(1, await db.ScalarAsync<long>("select count(*) from job_workers where stopped_at is not null"));
    }

    [Fact]
    public async Task Graceful_shutdown_lets_a_job_finish_within_the_grace_period()
    {
        var db = await JobTestDatabase.CreateAsync();
        var host = await JobEngineHost.StartAsync(db.ConnectionString, new Dictionary<string, string?> { ["Jobs:ShutdownGracePeriod"] = "00:00:10" });
        var id = await db.EnqueueAsync(new SlowJob(JobLedger.NewRun(), 1000));
        await db.WaitForStateAsync(id, JobStates.Running);

        await host.DisposeAsync();

        Assert.Equal(JobStates.Succeeded, (await db.JobAsync(id)).State);
    }

    [Fact]
    public async Task Two_shutdowns_at_once_share_one_and_the_pool_can_be_disposed_when_the_first_returns()
    {
        // The app's own Run and a test host's dispose both stop the host; whichever returns first disposes it.
        var db = await JobTestDatabase.CreateAsync();
        var settings = new Dictionary<string, string?> { ["Jobs:ShutdownGracePeriod"] = "00:00:00.300" };
        var host = await JobEngineHost.StartAsync(db.ConnectionString, settings);
        var id = await db.EnqueueAsync(new SlowJob(JobLedger.NewRun(), 60_000));
        await db.WaitForStateAsync(id, JobStates.Running);

        var first = host.Pool.StopAsync(default);
        var second = host.Pool.StopAsync(default);
        await first;
        host.Pool.Dispose();
        await second;
        await host.DisposeAsync();

        Assert.Equal(JobStates.Queued, (await db.JobAsync(id)).State);
        Assert.Equal(1, await db.ScalarAsync<long>("select count(*) from job_workers where stopped_at is not null"));
    }
}
