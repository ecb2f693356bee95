using Cogrion.Jobs.Tests.Infrastructure;
using Npgsql;

namespace Cogrion.Jobs.Tests;

/// <summary>The engine's rules, on real PostgreSQL, with several engine hosts standing for several replicas.</summary>
public sealed class JobEngineTests
{
    [Fact]
    public async Task Every_job_completes_exactly_once_with_many_workers_on_three_replicas()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        var settings = new Dictionary<string, string?> { ["Jobs:WorkersPerReplica"] = "8" };
        await using var a = await JobEngineHost.StartAsync(db.ConnectionString, settings);
        await using var b = await JobEngineHost.StartAsync(db.ConnectionString, settings);
        await using var c = await JobEngineHost.StartAsync(db.ConnectionString, settings);

        const int count = 600;
        await using (var dataSource = NpgsqlDataSource.Create(db.ConnectionString))
        await using (var connection = await dataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            for (var i = 0; i < count; i++) await a.Queue.EnqueueAsync(transaction, new CountingJob(run), JobTestDatabase.ByTest,
                CancellationToken.None);
            await transaction.CommitAsync();
        }

        await Eventually.ValueAsync(() => db.ScalarAsync<long>("select count(*) from jobs where kind = 'test.counting' and state = 'succeeded'"), n
            => n == count, "every job to succeed");
        var ran = JobLedger.For(run);
        Assert.Equal(count, ran.Count);
        Assert.Equal(count, ran.Select(e => e.JobId).Distinct().Count());
        Assert.Equal(count,
            await db.ScalarAsync<long>("select count(*) from job_attempts a join jobs j on j.id = a.job_id where j.kind = 'test.counting' and " +
            "a.outcome = 'succeeded'"));
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from jobs where kind = 'test.counting' and attempt <> 1"));
        // The work was shared: more than one replica took part.
        Assert.True(ran.Select(e => e.Worker).Distinct().Count() > 1, "only one replica claimed jobs");
    }

    [Fact]
    public async Task A_job_enqueued_in_a_rolled_back_transaction_never_exists()
    {
        var db = await JobTestDatabase.CreateAsync();
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await new JobQueue(TestRedactor.Instance)
                .EnqueueAsync(transaction, new CountingJob("rolled-back"), JobTestDatabase.ByTest, CancellationToken.None);
            await transaction.RollbackAsync();
        }

        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from jobs where kind = 'test.counting'"));
    }

    [Fact]
    public async Task Arguments_with_a_secret_looking_key_are_refused_at_enqueue()
    {
        var db = await JobTestDatabase.CreateAsync();

        var refused = await Assert.ThrowsAsync<JobArgumentsException>(() => db.EnqueueAsync(new LeakyJob("hunter2", new Nested("x"))));

        Assert.Contains("$.databasePassword", refused.Message);
        Assert.DoesNotContain("hunter2", refused.Message);
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from jobs"));
    }

    private sealed record Nested(string ApiKey);

    private sealed record LeakyJob(string DatabasePassword, Nested Inner) : IJobArguments
    {
        public static string Kind => "test.leaky";
    }

    [Fact]
    public async Task A_new_job_wakes_an_idle_replica_through_notify_without_waiting_for_the_poll()
    {
        var db = await JobTestDatabase.CreateAsync();
        var run = JobLedger.NewRun();
        await using var host = await JobEngineHost.StartAsync(db.ConnectionString, new Dictionary<string,
            string?>
        { ["Jobs:PollInterval"] = "00:10:00" });
        // Listening, past its first claims (the start, the catch-up after LISTEN, the recurring jobs of
        // the first minute) and idle: from now on only a notification can wake it within ten minutes.
        await host.Listening.WaitAsync(TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => host.Pool.IsIdle, "the worker pool to be idle");

        var id = await db.EnqueueAsync(new CountingJob(run));

        // Succeeding within the deadline proves NOTIFY woke the worker: no timer would have.
        await db.WaitForStateAsync(id, JobStates.Succeeded, TimeSpan.FromSeconds(10));
    }
}
