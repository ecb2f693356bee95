using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// The simulated cloud's memory: a state file in OpenTofu's format (version 4), at the local backend's
/// path. Written after every resource, so an interrupted or failed apply leaves exactly what was done.
/// </summary>
public sealed class SandboxState
{
    private readonly string path;
    private readonly Lock gate = new();

    public int Serial { get; private set; }
    public string Lineage { get; private set; } = Guid.NewGuid().ToString();

    /// <summary>Address to (resource, id).</summary>
    public Dictionary<string, (SimResource Resource, string Id)> Resources { get; } = new(StringComparer.Ordinal);
    public JsonObject Outputs { get; private set; } = [];

    private SandboxState(string path) => this.path = path;

    public static SandboxState Load(string path)
    {
        var state = new SandboxState(path);
        if (RootModule.ReadObject(path) is not { } document) return state;
        state.Serial = document["serial"]?.GetValue<int>() ?? 0;
        state.Lineage = document["lineage"]?.GetValue<string>() ?? state.Lineage;
        state.Outputs = document["outputs"] as JsonObject ?? [];
        foreach (var entry in document["resources"] as JsonArray ?? [])
        {
            foreach (var instance in entry?["instances"] as JsonArray ?? [])
            {
                var attributes = instance?["attributes"] as JsonObject ?? [];
                var resource = new SimResource(
                    entry!["module"]?.GetValue<string>() ?? "",
                    entry["type"]!.GetValue<string>(),
                    entry["name"]!.GetValue<string>(),
                    instance!["index_key"]?.DeepClone(),
                    instance["sandbox_wave"]?.GetValue<int>() ?? 0,
                    instance["sandbox_seconds"]?.GetValue<int>() ?? 1,
                    (JsonObject)attributes.DeepClone());
                state.Resources[resource.Address] = (resource, attributes["id"]?.GetValue<string>() ?? "");
            }
        }
        return state;
    }

    public (SimResource Resource, string Id)? Find(string address)
    {
        lock (gate) return Resources.TryGetValue(address, out var found) ? found : null;
    }

    public void Put(SimResource resource, string id)
    {
        lock (gate)
        {
            Resources[resource.Address] = (resource, id);
            Save();
        }
    }

    public void Remove(string address)
    {
        lock (gate)
        {
            Resources.Remove(address);
            Save();
        }
    }

    /// <summary>
    /// Takes what a refresh found: an object gone from the cloud leaves the state, a changed one keeps
    /// its id with the cloud's values. Saved only when <paramref name="save"/> (apply starts from the
    /// refreshed state and persists it; plan and show only look at it, as OpenTofu's plan writes no state).
    /// </summary>
    public void Refresh(IReadOnlyList<Drift> drifts, bool save)
    {
        if (drifts.Count == 0) return;
        lock (gate)
        {
            foreach (var drift in drifts)
            {
                if (drift.Cloud is null) Resources.Remove(drift.Prior.Address);
                else Resources[drift.Prior.Address] = (drift.Refreshed, drift.Id);
            }
            if (save) Save();
        }
    }

    public void SetOutputs(JsonObject outputs)
    {
        lock (gate)
        {
            Outputs = outputs;
            Save();
        }
    }

    private void Save()
    {
        Serial++;
        var resources = new JsonArray();
        foreach (var (resource, id) in Resources.Values.OrderBy(r => r.Resource.Address, StringComparer.Ordinal))
        {
            var attributes = (JsonObject)resource.Attributes.DeepClone();
            attributes["id"] = id;
            var entry = new JsonObject
            {
                ["mode"] = "managed",
                ["type"] = resource.Type,
                ["name"] = resource.Name,
                ["provider"] = $"provider[\"{resource.ProviderName}\"]",
                ["instances"] = new JsonArray(new JsonObject
                {
                    ["index_key"] = resource.Key?.DeepClone(),
                    ["schema_version"] = 0,
                    ["attributes"] = attributes,
                    ["sensitive_attributes"] = new JsonArray(),
                    // Not part of OpenTofu's format: how the simulator paces this resource's destruction.
                    ["sandbox_wave"] = resource.Wave,
                    ["sandbox_seconds"] = resource.Seconds,
                }),
            };
            if (resource.Module.Length > 0) entry["module"] = resource.Module;
            resources.Add(entry);
        }
        var document = new JsonObject
        {
            ["version"] = 4,
            ["terraform_version"] = Program.TofuVersion,
            ["serial"] = Serial,
            ["lineage"] = Lineage,
            ["outputs"] = Outputs.DeepClone(),
            ["resources"] = resources,
            ["check_results"] = null,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temporary, path, overwrite: true);
    }
}
