using System.Globalization;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Kubernetes;

/// <summary>Reads what the heartbeat reports: version, nodes, capacity, and the namespaces the agent manages. Names and numbers only.</summary>
public sealed class InventoryReader(IKubernetesClient kubernetes)
{
    public async Task<ClusterInventory> ReadAsync(CancellationToken cancellationToken)
    {
        var version = await kubernetes.GetVersionAsync(cancellationToken);
        var nodes = await kubernetes.ListAsync("v1", "Node", null, null, cancellationToken);
        var namespaces = await kubernetes.ListAsync("v1", "Namespace", null, AgentLabels.ManagedSelector, cancellationToken);

        var summaries = nodes.Select(n => new NodeSummary(
            Name(n),
            n["status"]?["conditions"] is JsonArray conditions && conditions.OfType<JsonObject>()
                .Any(c => c["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True"),
            n["status"]?["nodeInfo"]?["kubeletVersion"]?.GetValue<string>(),
            Capacity(n, "cpu"),
            Capacity(n, "memory"))).ToList();
        var capacity = new ClusterCapacity(
            nodes.Sum(n => Quantities.ParseCpu(Capacity(n, "cpu"))),
            nodes.Sum(n => Quantities.ParseBytes(Capacity(n, "memory"))),
            nodes.Sum(n => (int)Quantities.ParseBytes(Capacity(n, "pods"))));
        var available = await AvailableAsync(nodes, cancellationToken);
        var managed = namespaces.Select(Namespace).ToList();
        return new ClusterInventory(version, summaries, capacity, managed, await ReadAppsAsync(namespaces, cancellationToken), available);
    }

    /// <summary>
    /// What the scheduler could still place: the nodes' allocatable (their capacity when a node does not say) minus the
    /// requests of every pod bound to a node and not finished, as `kubectl describe node` adds them up. Null when RBAC
    /// does not let this install list pods cluster-wide (an install older than the capacity check): unknown, not zero.
    /// </summary>
    private async Task<ClusterCapacity?> AvailableAsync(IReadOnlyList<JsonObject> nodes, CancellationToken cancellationToken)
    {
        IReadOnlyList<JsonObject> pods;
        try
        {
            pods = await kubernetes.ListAsync("v1", "Pod", null, null, cancellationToken);
        }
        catch (KubernetesException ex) when (ex.StatusCode == 403)
        {
            return null;
        }
        double cpu = nodes.Sum(n => Quantities.ParseCpu(Allocatable(n, "cpu")));
        long memory = nodes.Sum(n => Quantities.ParseBytes(Allocatable(n, "memory")));
        var podSlots = nodes.Sum(n => (int)Quantities.ParseBytes(Allocatable(n, "pods")));
        foreach (var pod in pods)
        {
            var phase = Text(pod["status"]?["phase"]);
            if (Text(pod["spec"]?["nodeName"]) is null || phase is "Succeeded" or "Failed") continue;
            podSlots--;
            foreach (var container in (pod["spec"]?["containers"] as JsonArray ?? []).OfType<JsonObject>())
            {
                cpu -= Quantities.ParseCpu(Text(container["resources"]?["requests"]?["cpu"]));
                memory -= Quantities.ParseBytes(Text(container["resources"]?["requests"]?["memory"]));
            }
        }
        return new ClusterCapacity(Math.Max(0, cpu), Math.Max(0, memory), Math.Max(0, podSlots));
    }

    private static string? Allocatable(JsonObject node, string resource) =>
        Text(node["status"]?["allocatable"]?[resource]) ?? Capacity(node, resource);

    /// <summary>The catalog apps: each managed namespace labelled with an app, its HelmRelease and its workloads.</summary>
    public async Task<IReadOnlyList<AppReport>> ReadAppsAsync(CancellationToken cancellationToken) =>
        await ReadAppsAsync(await kubernetes.ListAsync("v1", "Namespace", null, AgentLabels.ManagedSelector, cancellationToken), cancellationToken);

    private async Task<IReadOnlyList<AppReport>> ReadAppsAsync(IReadOnlyList<JsonObject> namespaces, CancellationToken cancellationToken)
    {
        var apps = new List<AppReport>();
        foreach (var ns in namespaces)
        {
            var app = ns["metadata"]?["labels"]?[AgentLabels.App]?.GetValue<string>();
            if (string.IsNullOrEmpty(app)) continue;
            var name = Name(ns);
            IReadOnlyList<JsonObject> releases;
            try
            {
                releases = await kubernetes.ListAsync("helm.toolkit.fluxcd.io/v2", "HelmRelease", name, null, cancellationToken);
            }
            catch (KubernetesException ex) when (ex.NotServed is not null)
            {
                // Flux's CRDs are not installed (or were removed, and their objects with them): no release to report, and the
                // rest of the inventory still goes out.
                releases = [];
            }
            foreach (var release in releases) apps.Add(await ReadAppAsync(name, app, release, cancellationToken));
        }
        return apps;
    }

    /// <summary>The kinds whose readiness an app report carries, in report order.</summary>
    public static readonly string[] WorkloadKinds = ["Deployment", "StatefulSet"];

    private async Task<AppReport> ReadAppAsync(string ns, string app, JsonObject release, CancellationToken cancellationToken)
    {
        var workloads = new List<(string Kind, JsonObject Workload)>();
        foreach (var kind in WorkloadKinds)
            foreach (var workload in await kubernetes.ListAsync("apps/v1", kind, ns, null, cancellationToken)) workloads.Add((kind, workload));
        return App(ns, app, release, workloads);
    }

    /// <summary>A managed namespace as the heartbeat names it.</summary>
    public static ManagedNamespace Namespace(JsonObject ns) => new(
        Name(ns),
        ns["metadata"]?["labels"]?[AgentLabels.App]?.GetValue<string>(),
        ns["status"]?["phase"]?.GetValue<string>() ?? "Unknown");

    /// <summary>One app's report from its HelmRelease and the workloads in its namespace (whether listed or watched).</summary>
    public static AppReport App(string ns, string app, JsonObject release, IEnumerable<(string Kind, JsonObject Workload)> workloads)
    {
        var status = release["status"] as JsonObject;
        var conditions = (status?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Select(c => new ReleaseCondition(
            Text(c["type"]) ?? "", Text(c["status"]) ?? "Unknown", Text(c["reason"]), Text(c["message"]),
            DateTimeOffset.TryParse(Text(c["lastTransitionTime"]), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at
                : null)).ToList();
        // helm-controller keeps the release history newest first; the last applied chart is the newest deployed one.
        var history = (status?["history"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var deployed = history.FirstOrDefault(h => Text(h["status"]) == "deployed");
        var newest = history.FirstOrDefault();
        var readiness = workloads.Select(w => new WorkloadReadiness(w.Kind, Name(w.Workload),
            (int)(w.Workload["spec"]?["replicas"]?.GetValue<long>() ?? 1),
            (int)(w.Workload["status"]?["readyReplicas"]?.GetValue<long>() ?? 0))).ToList();
        return new AppReport(ns, app, Name(release),
            release["metadata"]?["generation"]?.GetValue<long>(), status?["observedGeneration"]?.GetValue<long>(),
            conditions, Text(status?["lastAttemptedRevision"]), Text(deployed?["chartVersion"]), readiness,
            Text(release["metadata"]?["annotations"]?["cogrion.io/revision"]), Text(newest?["status"]),
            DateTimeOffset.TryParse(Text(newest?["lastDeployed"]), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since)
                ? since : null);
    }

    /// <summary>What the managed namespaces and the apps look like, to tell whether anything changed since the last report.</summary>
    public static string Fingerprint(IReadOnlyList<ManagedNamespace> namespaces, IReadOnlyList<AppReport>? apps) =>
        string.Join(',', namespaces.Select(n => $"{n.Name}:{n.App}:{n.Status}")) + "|" +
        (apps is null ? "" : System.Text.Json.JsonSerializer.Serialize(apps.ToList(), ProtocolJson.Default.ListAppReport));

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public static string Name(JsonObject o) => o["metadata"]?["name"]?.GetValue<string>() ?? "";

    private static string? Capacity(JsonObject node, string resource) => node["status"]?["capacity"]?[resource]?.GetValue<string>();
}
