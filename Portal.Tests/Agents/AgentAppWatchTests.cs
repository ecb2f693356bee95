using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Sandbox.Cluster.Runtime;
using Cogrion.Sandbox.Cluster.Store;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// The real agent watches its apps (ADR 0075): with its heartbeat set to ten minutes, only its watches can bring a change
/// of an app's workloads to the Portal, and they must keep doing so after the API server ends them or forgets the
/// version they would resume from (410 Gone).
/// </summary>
public sealed class AgentAppWatchTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly Dictionary<string, string> SlowBeat = new(AgentProcess.FastTimings)
    {
        ["Agent__HeartbeatInterval"] = "00:10:00",
    };

    [Fact]
    public async Task A_change_of_an_apps_workload_reaches_the_portal_through_the_watch_also_after_the_server_ends_or_expires_it()
    {
        await using var scenario = await AgentScenario.StartAsync(agentEnvironment: SlowBeat);
        // No bookmark may move the agent's version past the compaction below (the test's 410 depends on it).
        scenario.Agent.Cluster.Api.BookmarkInterval = TimeSpan.FromHours(1);
        // Flux's kinds served, no Flux controller: the release below is the test's alone, as the cluster's API serves it.
        await scenario.Agent.InstallFluxCrdsAsync();
        var ensured = await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.EnsureNamespace, AgentScenario.Namespace("lake")));
        Assert.Equal("succeeded", ensured.Status);
        var store = scenario.Agent.Cluster.Store;
        WriteRelease(store);
        SetReady(store, 0);
        await ReportedAsync(scenario, 0, "the new app with its workload unready");

        SetReady(store, 1);
        await ReportedAsync(scenario, 1, "the workload ready");

        // The API server ends every watch (a restart): the agent watches again from the version it saw last.
        scenario.Agent.Cluster.Api.CloseWatches();
        SetReady(store, 0);
        await ReportedAsync(scenario, 0, "the change after the watches ended");

        // ... and forgets the versions (a compaction) while the cluster moved on: 410 Gone, the agent lists again, then watches.
        var lists = Lists(scenario);
        store.Write(ResourceTypes.ConfigMap, AgentInstall.Namespace, "elsewhere", _ => new JsonObject { ["data"] = new JsonObject() });
        store.Compact();
        scenario.Agent.Cluster.Api.CloseWatches();
        SetReady(store, 1);
        await ReportedAsync(scenario, 1, "the change after the versions expired");
        Assert.True(Lists(scenario) > lists, "the agent lists again after 410 Gone");
        Assert.Contains(scenario.Agent.Cluster.Api.Audit, a => a.Verb == "watch"
            && a.User.EndsWith($":{AgentInstall.ServiceAccount}", StringComparison.Ordinal)
            && a.Path.StartsWith("/apis/apps/v1/namespaces/lake/deployments?", StringComparison.Ordinal));
    }

    private static int Lists(AgentScenario scenario) => scenario.Agent.Cluster.Api.Audit.Count(a =>
        a.Verb == "list" && a.Path.StartsWith("/apis/apps/v1/namespaces/lake/deployments", StringComparison.Ordinal));

    private static void WriteRelease(ObjectStore store) =>
        store.Write(HelmController.HelmRelease, "lake", "airflow", _ => new JsonObject
        {
            ["metadata"] = new JsonObject(),
            ["spec"] = new JsonObject { ["chart"] = new JsonObject { ["spec"] = new JsonObject { ["chart"] = "airflow", ["version"] = "1.15.0" } } },
        });

    /// <summary>The cluster's own state changing under the agent (the simulated controllers leave this workload alone).</summary>
    private static void SetReady(ObjectStore store, int ready) =>
        store.Write(ResourceTypes.Deployment, "lake", "airflow-webserver", _ => new JsonObject
        {
            ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [HelmController.SimulatedAnnotation] = "test" } },
            ["spec"] = new JsonObject { ["replicas"] = 1 },
            ["status"] = new JsonObject { ["replicas"] = 1, ["readyReplicas"] = ready },
        });

    private static Task ReportedAsync(AgentScenario scenario, int ready, string what) =>
        Eventually.ValueAsync(async () => (await scenario.AgentAsync()).ParsedInventory()?.Apps?.SingleOrDefault(a => a.Namespace == "lake"),
            app => app?.Workloads.SingleOrDefault(w => w.Name == "airflow-webserver")?.Ready == ready, $"the agent to report {what}", Deadline);
}
