using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Kubernetes;

/// <summary>
/// The sandbox's Kubernetes: an in-memory object store behind <see cref="IKubernetesClient"/>,
/// saved to the state directory after every change so an agent restart finds its cluster as it
/// left it. It keeps the semantics the agent relies on (apply creates or merges, delete is
/// idempotent, deleting a namespace deletes what is in it, label selectors) and nothing more.
/// </summary>
public sealed class SimulatedCluster : IKubernetesClient
{
    public const string Version = "v1.31.0-sandbox";
    private readonly string file;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly TimeProvider time;
    private JsonObject? objects;

    public SimulatedCluster(IOptions<AgentOptions> options, TimeProvider time)
    {
        file = Path.Combine(options.Value.StateDirectory, "simulated-cluster.json");
        this.time = time;
    }

    public Task<string> GetVersionAsync(CancellationToken cancellationToken) => Task.FromResult(Version);

    public async Task<JsonObject> ApplyAsync(JsonObject manifest, CancellationToken cancellationToken)
    {
        var (kind, name, ns) = KubernetesClient.Describe(manifest);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var store = await LoadAsync(cancellationToken);
            if (kind.Namespaced && store[Key("v1", "Namespace", null, ns!)] is null)
                throw new KubernetesException(404, $"Not found when trying to apply {kind.Kind} {ns}/{name}: namespace {ns} does not exist.");
            var key = Key(kind.ApiVersion, kind.Kind, ns, name);
            var applied = (JsonObject)manifest.DeepClone();
            if (store[key] is JsonObject existing)
            {
                Merge(existing, applied);
                applied = existing;
            }
            else
            {
                var metadata = (JsonObject)applied["metadata"]!;
                metadata["uid"] = Guid.NewGuid().ToString();
                metadata["creationTimestamp"] = time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ");
                if (kind.Kind == "Namespace") applied["status"] = new JsonObject { ["phase"] = "Active" };
                store[key] = applied;
            }
            var version = int.TryParse(applied["metadata"]?["resourceVersion"]?.GetValue<string>(), out var v) ? v + 1 : 1;
            applied["metadata"]!["resourceVersion"] = version.ToString();
            await SaveAsync(store, cancellationToken);
            return (JsonObject)applied.DeepClone();
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<JsonObject?> GetAsync(ObjectReference reference, CancellationToken cancellationToken)
    {
        var kind = ResourceKinds.For(reference);
        if (kind.Kind == "Node") return (await ListAsync("v1", "Node", null, null, cancellationToken)).FirstOrDefault(n => Name(n) == reference.Name);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var store = await LoadAsync(cancellationToken);
            return store[Key(kind.ApiVersion, kind.Kind, kind.Namespaced ? reference.Namespace : null, reference.Name)]?.DeepClone() as JsonObject;
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<IReadOnlyList<JsonObject>> ListAsync(string apiVersion, string kind, string? @namespace, string? labelSelector, CancellationToken cancellationToken)
    {
        var resource = ResourceKinds.Get(apiVersion, kind);
        if (resource.Kind == "Node") return SimulatedNodes();
        await gate.WaitAsync(cancellationToken);
        try
        {
            var store = await LoadAsync(cancellationToken);
            var prefix = $"{resource.ApiVersion}|{resource.Kind}|{(resource.Namespaced ? @namespace ?? "" : "")}|";
            return store
                .Where(entry => resource.Namespaced && @namespace is null
                    ? entry.Key.StartsWith($"{resource.ApiVersion}|{resource.Kind}|", StringComparison.Ordinal)
                    : entry.Key.StartsWith(prefix, StringComparison.Ordinal))
                .Select(entry => (JsonObject)entry.Value!.DeepClone())
                .Where(o => Matches(o, labelSelector))
                .OrderBy(Name, StringComparer.Ordinal)
                .ToList();
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<bool> DeleteAsync(ObjectReference reference, CancellationToken cancellationToken)
    {
        var kind = ResourceKinds.For(reference);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var store = await LoadAsync(cancellationToken);
            var key = Key(kind.ApiVersion, kind.Kind, kind.Namespaced ? reference.Namespace : null, reference.Name);
            if (!store.Remove(key)) return false;
            if (kind.Kind == "Namespace")
            {
                // Like the namespace controller: everything inside goes with it.
                var inside = store.Where(e => e.Key.Split('|')[2] == reference.Name).Select(e => e.Key).ToList();
                foreach (var child in inside) store.Remove(child);
            }
            await SaveAsync(store, cancellationToken);
            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    private static string Key(string apiVersion, string kind, string? ns, string name) => $"{apiVersion}|{kind}|{ns ?? ""}|{name}";

    private static string Name(JsonObject o) => o["metadata"]?["name"]?.GetValue<string>() ?? "";

    /// <summary>Equality selectors ("a=b,c=d") and existence ("a"), the forms the agent uses.</summary>
    private static bool Matches(JsonObject o, string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector)) return true;
        var labels = o["metadata"]?["labels"] as JsonObject;
        foreach (var term in selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = term.IndexOf('=');
            var key = equals < 0 ? term : term[..equals];
            var value = labels?[key]?.GetValue<string>();
            if (value is null || (equals >= 0 && value != term[(equals + 1)..])) return false;
        }
        return true;
    }

    /// <summary>Server-side apply, approximately: fields in the applied object replace or extend the stored ones.</summary>
    private static void Merge(JsonObject target, JsonObject source)
    {
        foreach (var (key, value) in source.ToList())
        {
            if (value is JsonObject child && target[key] is JsonObject existing) Merge(existing, child);
            else target[key] = value?.DeepClone();
        }
    }

    private static List<JsonObject> SimulatedNodes() => Enumerable.Range(1, 3).Select(i => new JsonObject
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Node",
        ["metadata"] = new JsonObject { ["name"] = $"sandbox-node-{i}" },
        ["status"] = new JsonObject
        {
            ["capacity"] = new JsonObject { ["cpu"] = "4", ["memory"] = "16Gi", ["pods"] = "110" },
            ["nodeInfo"] = new JsonObject { ["kubeletVersion"] = Version },
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
        },
    }).ToList();

    private async Task<JsonObject> LoadAsync(CancellationToken cancellationToken)
    {
        if (objects is not null) return objects;
        objects = File.Exists(file) ? JsonNode.Parse(await File.ReadAllTextAsync(file, cancellationToken)) as JsonObject ?? [] : [];
        return objects;
    }

    private async Task SaveAsync(JsonObject store, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file + ".tmp", store.ToJsonString(), cancellationToken);
        File.Move(file + ".tmp", file, overwrite: true);
    }
}
