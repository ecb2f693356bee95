using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// The sandbox's cloud console: what a person changed by hand, behind OpenTofu's back, in
/// <c>&lt;state path&gt;.outside.json</c> (docs/sandbox.md). <c>deleted</c> lists addresses of objects
/// that are gone; <c>changed</c> maps an address to the attributes whose value in the cloud is no
/// longer the one the state remembers. The state is not touched: as with a real cloud, only the
/// refresh of the next plan finds out.
/// </summary>
public sealed class OutsideChanges
{
    private readonly string path;
    private readonly List<string> deleted;
    private readonly Dictionary<string, JsonObject> changed;

    private OutsideChanges(string path, List<string> deleted, Dictionary<string, JsonObject> changed)
    {
        this.path = path;
        this.deleted = deleted;
        this.changed = changed;
    }

    public static string PathFor(string statePath) => statePath + ".outside.json";

    public static OutsideChanges Load(string statePath)
    {
        var path = PathFor(statePath);
        var document = RootModule.ReadObject(path);
        var deleted = (document?["deleted"] as JsonArray ?? []).Select(a => a?.GetValue<string>()).OfType<string>().ToList();
        var changed = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var (address, attributes) in document?["changed"] as JsonObject ?? [])
            if (attributes is JsonObject values) changed[address] = (JsonObject)values.DeepClone();
        return new OutsideChanges(path, deleted, changed);
    }

    /// <summary>
    /// What a refresh of <paramref name="state"/> finds: per object the state holds and the console
    /// touched, the cloud's object (null when it is gone). A change that leaves every value as the
    /// state has it is no drift; an address the state does not hold is nothing OpenTofu would read.
    /// </summary>
    public IReadOnlyList<Drift> Refresh(SandboxState state)
    {
        List<Drift> drifts = [];
        foreach (var (address, (resource, id)) in state.Resources.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (deleted.Contains(address))
            {
                drifts.Add(new Drift(resource, id, null));
                continue;
            }
            if (!changed.TryGetValue(address, out var values)) continue;
            var cloud = (JsonObject)resource.Attributes.DeepClone();
            foreach (var (name, value) in values) cloud[name] = value?.DeepClone();
            if (!JsonNode.DeepEquals(cloud, resource.Attributes)) drifts.Add(new Drift(resource, id, cloud));
        }
        return drifts;
    }

    /// <summary>
    /// After an apply started from the refreshed state, the state knows what the cloud has: the
    /// console's entries for those objects are spent. Only values the plan saw are dropped, so a change
    /// made by hand after the plan is still there for the next one. An empty file is deleted.
    /// </summary>
    public void Reconciled(IReadOnlyList<Drift> drifts)
    {
        if (!File.Exists(path) || drifts.Count == 0) return;
        foreach (var drift in drifts)
        {
            var address = drift.Prior.Address;
            if (drift.Cloud is null)
            {
                deleted.RemoveAll(a => a == address);
                continue;
            }
            if (!changed.TryGetValue(address, out var values)) continue;
            foreach (var name in values.Select(v => v.Key).ToList())
                if (JsonNode.DeepEquals(values[name], drift.Cloud[name])) values.Remove(name);
            if (values.Count == 0) changed.Remove(address);
        }
        if (deleted.Count == 0 && changed.Count == 0)
        {
            File.Delete(path);
            return;
        }
        var document = new JsonObject
        {
            ["deleted"] = new JsonArray(deleted.Select(a => (JsonNode)a).ToArray()),
            ["changed"] = new JsonObject(changed.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value.DeepClone()))),
        };
        File.WriteAllText(path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}

/// <summary>
/// One object found changed outside OpenTofu: the state's object and its id, and the cloud's
/// attributes now, null when the object no longer exists.
/// </summary>
public sealed record Drift(SimResource Prior, string Id, JsonObject? Cloud)
{
    /// <summary>The action of the <c>resource_drift</c> message: what happened to the object outside OpenTofu.</summary>
    public string Action => Cloud is null ? "delete" : "update";

    /// <summary>The object as the refresh left it: the state's resource with the cloud's values.</summary>
    public SimResource Refreshed => Prior with { Attributes = (JsonObject)Cloud!.DeepClone() };
}
