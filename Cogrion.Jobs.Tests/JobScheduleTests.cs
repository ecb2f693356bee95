using Cogrion.Jobs.Recurring;
using Cogrion.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cogrion.Jobs.Tests;

/// <summary>Retries, concurrency keys, recurring jobs and log lines.</summary>
public sealed class JobScheduleTests
{
    [Fact]
    public async Task A_failing_job_is_retried_with_growing_pauses_then_fails_keeping_its_last_error_and_stack_trace()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        await using var host = await JobEngineHost.StartAsync(db.ConnectionString);

        var id = await db.EnqueueAsync(new FailingJob(run));

        var job = await db.WaitForStateAsync(id, JobStates.Failed);
        Assert.Equal(3, job.Attempt);
        Assert.Equal("InvalidOperationException: boom on attempt 3", job.LastError);
        Assert.Contains(nameof(FailingHandler), job.LastErrorStack);
        var attempts = await db.AttemptsAsync(id);
        Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt));
        Assert.All(attempts, a => Assert.Equal(AttemptOutcomes.Failed, a.Outcome));
        Assert.Equal("InvalidOperationException: boom on attempt 1", attempts[0].Error);
        // Policy: base 400 ms, doubled per attempt, at least half of it as a fixed pause.
        Assert.True(attempts[1].StartedAt - attempts[0].FinishedAt >= TimeSpan.FromMilliseconds(200), "the first retry came too soon");
        Assert.True(attempts[2].StartedAt - attempts[1].FinishedAt >= TimeSpan.FromMilliseconds(400), "the second retry came too soon");
    }

    [Fact]
    public void Retry_backoff_doubles_per_attempt_with_jitter_in_the_upper_half_and_a_cap()
    {
        var policy = new JobPolicy(10, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1));
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var first = RetryBackoff.Delay(policy, 1, random);
            var third = RetryBackoff.Delay(policy, 3, random);
            var tenth = RetryBackoff.Delay(policy, 10, random);
            Assert.InRange(first, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
            Assert.InRange(third, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(40));
            Assert.InRange(tenth, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));
        }
        var spread = Enumerable.Range(0, 50).Select(_ => RetryBackoff.Delay(policy, 2, random)).Distinct().Count();
        Assert.True(spread > 40, "retries of jobs that failed together must not line up");
    }

    [Fact]
    public async Task A_job_waiting_for_later_is_woken_by_its_key_and_only_it()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        await using var host = await JobEngineHost.StartAsync(db.ConnectionString);
        var later = DateTimeOffset.UtcNow.AddHours(1);
        var waiting = await db.EnqueueAsync(new CountingJob(run), JobTestDatabase.ByTest with { ConcurrencyKey = "waits:a", RunAfter = later });
        var other = await db.EnqueueAsync(new CountingJob(run), JobTestDatabase.ByTest with { ConcurrencyKey = "waits:b", RunAfter = later });

        Assert.Equal(1, await host.Queue.WakeAsync(host.DataSource, "waits:a", CancellationToken.None));

        await db.WaitForStateAsync(waiting, JobStates.Succeeded);
        Assert.Equal(JobStates.Queued, (await db.JobAsync(other)).State);
        // Nothing left to wake: a finished job stays finished.
        Assert.Equal(0, await host.Queue.WakeAsync(host.DataSource, "waits:a", CancellationToken.None));
    }

    [Fact]
    public async Task Jobs_of_one_concurrency_key_run_one_at_a_time_in_enqueue_order_across_replicas()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        var other = JobLedger.NewRun();
        var settings = new Dictionary<string, string?> { ["Jobs:WorkersPerReplica"] = "4" };
        await using var a = await JobEngineHost.StartAsync(db.ConnectionString, settings);
        await using var b = await JobEngineHost.StartAsync(db.ConnectionString, settings);

        var keyed = new List<long>();
        for (var i = 0; i < 8; i++)
            keyed.Add(await db.EnqueueAsync(new SlowJob(run, 100), JobTestDatabase.ByTest with { ConcurrencyKey = "workspace:1" }));
        // Jobs without the key are not held up by it.
        var free = await db.EnqueueAsync(new SlowJob(other, 100));

        await Eventually.ValueAsync(()
            => db.ScalarAsync<long>("select count(*) from jobs where concurrency_key = 'workspace:1' and state = 'succeeded'"), n => n == 8,
            "the keyed jobs to finish");
        var entries = JobLedger.For(run).OrderBy(e => e.At).ToList();
        Assert.Equal(keyed.SelectMany(id => new[] { (id, "started"), (id, "finished") }), entries.Select(e => (e.JobId, e.Event)));
        Assert.Equal(JobStates.Succeeded, (await db.JobAsync(free)).State);
        var freeStarted = JobLedger.For(other).Single(e => e.Event == "started").At;
        Assert.True(freeStarted < entries[^1].At, "the unkeyed job waited for the keyed ones");
    }

    [Fact]
    public async Task A_recurring_job_is_enqueued_once_per_due_time_with_two_schedulers()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        void Recurring(IServiceCollection services) =>
            services.AddRecurringJob("test.hourly", JobSchedule.Every(TimeSpan.FromHours(1)), new CountingJob(run));
        // Workers off: the schedulers are driven by hand, both at once, many times.
        var off = new Dictionary<string, string?> { ["Jobs:RunWorkers"] = "false" };
        await using var a = await JobEngineHost.StartAsync(db.ConnectionString, off, Recurring);
        await using var b = await JobEngineHost.StartAsync(db.ConnectionString, off, Recurring);
        var schedulers = new[] { a, b }.Select(h => h.Services.GetServices<IHostedService>().OfType<RecurringJobScheduler>().Single()).ToArray();
        await Task.WhenAll(schedulers.Select(s => s.SynchronizeDefinitionsAsync(CancellationToken.None)));

        async Task RaceAsync()
        {
            var rounds = Enumerable.Range(0, 20).SelectMany(_ => schedulers).Select(s => Task.Run(() => s.RunDueAsync(CancellationToken.None)));
            await Task.WhenAll(rounds);
        }

        await RaceAsync();
        Assert.Equal(1, await db.ScalarAsync<long>("select count(*) from jobs where recurring_name = 'test.hourly'"));

        // The next due time arrives (the previous run has finished): exactly one more.
        await db.ExecuteAsync("update jobs set state = 'succeeded', finished_at = now() where recurring_name = 'test.hourly'");
        await db.ExecuteAsync("update recurring_jobs set next_run_at = now() - interval '1 second' where name = 'test.hourly'");
        await RaceAsync();
        Assert.Equal(2, await db.ScalarAsync<long>("select count(*) from jobs where recurring_name = 'test.hourly'"));
        Assert.True(await db.ScalarAsync<bool>("select next_run_at > now() + interval '59 minutes' from recurring_jobs where name = 'test.hourly'"));
    }

    [Fact]
    public async Task A_recurring_job_still_running_is_not_doubled_up_when_the_next_run_falls_due()
    {
        var db = await JobTestDatabase.CreateAsync();
        var off = new Dictionary<string, string?> { ["Jobs:RunWorkers"] = "false" };
        await using var host = await JobEngineHost.StartAsync(db.ConnectionString, off,
            s => s.AddRecurringJob("test.often", JobSchedule.Every(TimeSpan.FromHours(1)), new CountingJob("x")));
        var scheduler = host.Services.GetServices<IHostedService>().OfType<RecurringJobScheduler>().Single();
        await scheduler.SynchronizeDefinitionsAsync(CancellationToken.None);
        await scheduler.RunDueAsync(CancellationToken.None);

        await db.ExecuteAsync("update recurring_jobs set next_run_at = now() - interval '1 second' where name = 'test.often'");
        await scheduler.RunDueAsync(CancellationToken.None);

        Assert.Equal(1, await db.ScalarAsync<long>("select count(*) from jobs where recurring_name = 'test.often'"));
    }

    [Theory]
    [InlineData("*/15 * * * *", "2025-01-01T10:07:00Z", "2025-01-01T10:15:00Z")]
    [InlineData("17 3 * * *", "2025-01-01T03:17:00Z", "2025-01-02T03:17:00Z")]
    [InlineData("0 9 * * 1-5", "2025-01-03T10:00:00Z", "2025-01-06T09:00:00Z")]
    [InlineData("0 0 29 2 *", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    // Cronos matches a day only when both day fields allow it (Vixie cron takes either): the 15th is a Sunday.
    [InlineData("30 6 1,15 * 7", "2025-06-02T00:00:00Z", "2025-06-15T06:30:00Z")]
    public void A_cron_expression_gives_the_next_matching_minute(string expression, string after, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected), JobSchedule.Cron(expression).NextAfter(DateTimeOffset.Parse(after)));
    }

    [Theory]
    [InlineData("* * * *")]
    [InlineData("60 * * * *")]
    [InlineData("* * 32 * *")]
    [InlineData("*/0 * * * *")]
    public void An_invalid_cron_expression_is_refused(string expression)
    {
        Assert.Throws<FormatException>(() => JobSchedule.Cron(expression));
    }

    [Fact]
    public async Task Log_lines_are_stored_and_announced_to_listeners_on_every_replica()
    {
        var db = await JobTestDatabase.CreateAsync();
        await using var worker = await JobEngineHost.StartAsync(db.ConnectionString);
        await using var watcher = await JobEngineHost.StartAsync(db.ConnectionString, new Dictionary<string,
            string?>
        { ["Jobs:RunWorkers"] = "false" });
        var heard = new TaskCompletionSource<JobNotification>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Services.GetRequiredService<JobEvents>().Received += n => { if (n.Kind == JobNotificationKind.Log) heard.TrySetResult(n); };
        // Heard only once the watcher listens: a log line written before would go unannounced to it.
        await watcher.Listening.WaitAsync(TimeSpan.FromSeconds(30));

        var id = await db.EnqueueAsync(new SlowJob(JobLedger.NewRun(), 10));

        Assert.Equal(id, (await heard.Task.WaitAsync(TimeSpan.FromSeconds(10))).JobId);
        await db.WaitForStateAsync(id, JobStates.Succeeded);
        Assert.Equal("sleeping 10 ms", await db.ScalarAsync<string>("select line from job_logs where job_id = @id", new { id }));
    }

    [Fact]
    public async Task A_log_line_never_holds_a_secret_the_host_knows()
    {
        var db = await JobTestDatabase.CreateAsync();
        await using var host = await JobEngineHost.StartAsync(db.ConnectionString);
        var writer = host.Services.GetRequiredService<JobLogWriter>();
        var id = await db.EnqueueAsync(new CountingJob("x"), JobTestDatabase.ByTest with { RunAfter = DateTimeOffset.UtcNow.AddHours(1) });
        await db.ExecuteAsync("update jobs set state = 'running', attempt = 1, worker_id = 'w', lease_expires_at = now() + interval '1 hour' where " +
            "id = @id", new { id });

        await writer.AppendAsync(id, 1, "w", "connecting with never-log-this-secret", CancellationToken.None);

        Assert.Equal("connecting with [redacted]", await db.ScalarAsync<string>("select line from job_logs where job_id = @id", new { id }));
    }
}
