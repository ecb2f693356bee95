using Cogrion.Jobs;
using Cogrion.Portal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Cogrion.Portal.Tests.Failover;

/// <summary>
/// A replica dies (SIGKILL) in the middle of work, behind the real proxy: nobody is signed out, open
/// pages come back, agents poll another replica, no command is lost or delivered twice, and the dead
/// replica's jobs run again once their leases run out. Invariants only: how long each took is
/// bench/failover.sh's business.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_killed_replica_loses_no_session_circuit_command_or_job()
    {
        await using var scenario = FailoverScenario.Create(output.WriteLine);
        var outcome = await scenario.RunAsync(agentsPerReplica: 3, sessionsOnVictim: 1);

        // Signed-in users: the next request lands on another replica, still signed in.
        Assert.Equal(0, outcome.SignedOut);
        Assert.Equal(outcome.Sessions, outcome.SessionsMoved);
        // Their open pages reconnect (a new circuit on another replica), without a trip to the identity provider.
        Assert.Equal(outcome.Sessions, outcome.CircuitsRestored);

        // Agents that long-polled the dead replica poll another, and get what was enqueued meanwhile.
        Assert.Equal(3, outcome.AgentsOnVictim);
        Assert.Equal(outcome.AgentsOnVictim, outcome.AgentsMoved);
        Assert.Equal(outcome.AgentsOnVictim, outcome.RepollSeconds.Count);
        Assert.Equal(0, outcome.Lost);
        Assert.Equal(0, outcome.Duplicated);

        // Its jobs: the lease ran out, another replica ran them to the end.
        Assert.NotEmpty(outcome.VictimJobs);
        Assert.All(outcome.VictimJobs, job =>
        {
            Assert.Equal(JobStates.Succeeded, job.FinalState);
            Assert.True(job.Attempts >= 2, $"attempt {job.Attempts}: the job was not run again");
            Assert.Equal(AttemptOutcomes.LeaseExpired, job.FirstOutcome);
            Assert.DoesNotContain(outcome.VictimWorkerMarker, job.FinalWorker);
        });
    }
}
