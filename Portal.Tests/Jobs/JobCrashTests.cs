using System.Diagnostics;
using Cogrion.Jobs;
using Cogrion.Jobs.Diagnostics;
using Cogrion.Jobs.Tests;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Jobs;

/// <summary>
/// The fault the lease exists for: a replica dies (SIGKILL, no chance to clean up) in the middle of
/// its jobs. Two real Portal processes on one database; leases of seconds, so this takes seconds.
/// </summary>
public sealed class JobCrashTests
{
    private static readonly Dictionary<string, string?> ShortLeases = new()
    {
        ["Jobs:WorkersPerReplica"] = "2",
        ["Jobs:LeaseDuration"] = "00:00:03",
        ["Jobs:HeartbeatInterval"] = "00:00:01",
        ["Jobs:ReaperInterval"] = "00:00:01",
    };

    [Fact]
    public async Task Jobs_of_a_replica_killed_mid_run_complete_once_on_the_other_or_fail_saying_why()
    {
        var db = await PortalJobDatabase.CreateAsync();
        var doomed = await PortalProcess.StartAsync(PortalProcess.NextBaseUrl(), db.ConnectionString, "http://127.0.0.1:9", ShortLeases);
        var retried = await db.EnqueueAsync(new DiagnosticEchoJob(Seconds: 6), JobTestDatabase.ByTest with { MaxAttempts = 3 });
        var lastChance = await db.EnqueueAsync(new DiagnosticEchoJob(Seconds: 6), JobTestDatabase.ByTest with { MaxAttempts = 1 });
        await db.WaitForStateAsync(retried, JobStates.Running);
        await db.WaitForStateAsync(lastChance, JobStates.Running);

        // Killed at once, while both jobs still run: starting the other replica first could take longer
        // than the jobs on a loaded machine, and they would finish before the crash.
        var doomedPid = doomed.ProcessId;
        Process.GetProcessById(doomedPid).Kill(); // SIGKILL: no shutdown hook runs, nothing is handed back.
        await doomed.DisposeAsync();
        await using var survivor = await PortalProcess.StartAsync(PortalProcess.NextBaseUrl(), db.ConnectionString, "http://127.0.0.1:9",
            ShortLeases);

        var done = await db.WaitForStateAsync(retried, JobStates.Succeeded);
        Assert.Equal(2, done.Attempt);
        Assert.Contains($":{survivor.ProcessId}:", done.WorkerId);
        var attempts = await db.AttemptsAsync(retried);
        Assert.Equal([AttemptOutcomes.LeaseExpired, AttemptOutcomes.Succeeded], attempts.Select(a => a.Outcome));
        Assert.Contains($":{doomedPid}:", attempts[0].WorkerId);
        Assert.Contains("stopped renewing its lease (its process died or froze)", attempts[0].Error);
        // The survivor ran it from the start (the log of attempt 2 is complete).
        Assert.Equal(1,
            await db.ScalarAsync<long>("select count(*) from job_logs where job_id = @retried and attempt = 2 and line = 'Done.'", new { retried }));

        var failed = await db.WaitForStateAsync(lastChance, JobStates.Failed);
        Assert.Contains($"Worker {attempts[0].WorkerId} stopped renewing its lease", failed.LastError);
        Assert.Contains("No attempts were left.", failed.LastError);
        Assert.Equal([AttemptOutcomes.LeaseExpired], (await db.AttemptsAsync(lastChance)).Select(a => a.Outcome));
    }
}
