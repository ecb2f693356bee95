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
        var managed = namespaces.Select(ns => new ManagedNamespace(
            Name(ns),
            ns["metadata"]?["labels"]?[AgentLabels.App]?.GetValue<string>(),
            ns["status"]?["phase"]?.GetValue<string>() ?? "Unknown")).ToList();
        return new ClusterInventory(version, summaries, capacity, managed);
    }

    private static string Name(JsonObject o) => o["metadata"]?["name"]?.GetValue<string>() ?? "";

    private static string? Capacity(JsonObject node, string resource) => node["status"]?["capacity"]?[resource]?.GetValue<string>();
}

/// <summary>Kubernetes resource quantities ("3500m", "16Gi"), as far as inventory needs them.</summary>
public static class Quantities
{
    public static double ParseCpu(string? quantity)
    {
        if (string.IsNullOrWhiteSpace(quantity)) return 0;
        return quantity.EndsWith('m')
            ? double.Parse(quantity[..^1], CultureInfo.InvariantCulture) / 1000
            : double.Parse(quantity, CultureInfo.InvariantCulture);
    }

    public static long ParseBytes(string? quantity)
    {
        if (string.IsNullOrWhiteSpace(quantity)) return 0;
        (string Suffix, double Factor)[] units =
        [
            ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40),
            ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
        ];
        foreach (var (suffix, factor) in units)
            if (quantity.EndsWith(suffix, StringComparison.Ordinal))
                return (long)(double.Parse(quantity[..^suffix.Length], CultureInfo.InvariantCulture) * factor);
        return (long)double.Parse(quantity, CultureInfo.InvariantCulture);
    }
}
