using System.Globalization;
using Cogrion.Portal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Cogrion.Portal.Tests.Failover;

/// <summary>
/// bench/failover.sh: the failover scenario with more agents and sessions, its figures printed: the
/// time until every agent of the killed replica polls a live one (a command enqueued at the kill
/// reaches it), commands lost and duplicated, sessions signed out.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class FailoverBench(ITestOutputHelper output)
{
    [BenchFact("failover")]
    public async Task Kill_one_of_three_replicas_under_load()
    {
        var agentsPerReplica = int.Parse(Environment.GetEnvironmentVariable("COGRION_BENCH_AGENTS_PER_REPLICA") ?? "30",
            CultureInfo.InvariantCulture);
        var sessions = int.Parse(Environment.GetEnvironmentVariable("COGRION_BENCH_SESSIONS") ?? "3", CultureInfo.InvariantCulture);
        var lines = new List<string>();
        void Say(string line)
        {
            lines.Add(line);
            output.WriteLine(line);
        }

        await using var scenario = FailoverScenario.Create(Say);
        var outcome = await scenario.RunAsync(agentsPerReplica, sessions);

        var sorted = outcome.RepollSeconds.Order().ToArray();
        double Percentile(double p) => sorted.Length == 0 ? double.NaN
            : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        var missing = outcome.AgentsOnVictim - sorted.Length;
        Say($"agents of the killed replica: {outcome.AgentsOnVictim}, polling another replica again: {sorted.Length} (moved {outcome.AgentsMoved})");
        Say(FormattableString.Invariant($"repoll s: p50 {Percentile(0.5):0.00} p99 {Percentile(0.99):0.00} max {sorted.LastOrDefault():0.00}"));
        Say($"commands enqueued across the kill: {outcome.CommandsEnqueued}; lost {outcome.Lost}, duplicated {outcome.Duplicated}, handed out " +
            $"twice by the database {outcome.Redelivered}");
        Say($"signed-in sessions on the killed replica: {outcome.Sessions}; signed out {outcome.SignedOut}; answered by another replica " +
            $"{outcome.SessionsMoved}; circuits back {outcome.CircuitsRestored}");
        Say($"jobs the killed replica held: {outcome.VictimJobs.Count}; run again and succeeded elsewhere " +
            $"{outcome.VictimJobs.Count(j => j.Attempts >= 2 && j.FinalState == "succeeded")}");
        var p99 = missing > 0 ? "never" : Percentile(0.99).ToString("0.00", CultureInfo.InvariantCulture);
        Say($"failover: repoll p99 s: {p99}, lost {outcome.Lost}, duplicated {outcome.Duplicated}, signed out {outcome.SignedOut}");
        await File.WriteAllLinesAsync(Environment.GetEnvironmentVariable("COGRION_BENCH_FAILOVER")!, lines);
    }
}
