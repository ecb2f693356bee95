using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>A change to one resource: OpenTofu's action list (["create"], ["update"], ["delete","create"], ...).</summary>
public sealed record PlannedChange(SimResource Resource, string[] Actions, string? Reason)
{
    /// <summary>The single word the UI stream uses.</summary>
    public string UiAction => Actions switch
    {
        ["create"] => "create",
        ["update"] => "update",
        ["delete"] => "delete",
        [_, _] => "replace",
        _ => "noop",
    };
}

/// <summary>
/// A saved plan. Like OpenTofu's own plan file it records every input value, secret ones included,
/// which is why the Portal deletes it once it has been applied or discarded.
/// </summary>
public sealed record SandboxPlan(string Operation, int PriorSerial, JsonObject Variables, IReadOnlyList<(string Name, bool Sensitive)> Outputs,
    IReadOnlyList<PlannedChange> Changes)
{
    /// <summary>
    /// The state the plan was made against. Like OpenTofu, which records the backend in the plan file,
    /// apply and show use this one, whatever backend.tf.json says by then.
    /// </summary>
    public string? StatePath { get; init; }

    /// <summary>
    /// What the refresh before this plan found changed outside OpenTofu. Kept in the plan, as OpenTofu
    /// keeps the refreshed state in its plan file: show reports it and apply starts from it.
    /// </summary>
    public IReadOnlyList<Drift> Drifts { get; init; } = [];

    /// <summary>Plans against <paramref name="state"/>, which is the refreshed one: an object deleted outside OpenTofu is not in it.</summary>
    public static SandboxPlan Compute(RootModule root, SandboxState state, bool destroy, IReadOnlyList<Drift> drifts)
    {
        List<PlannedChange> changes = [];
        var desired = root.IsBootstrap ? BootstrapStack.Resources(root.Variables, root.AccountId)
            : SandboxStack.Resources(root.Variables, Path.GetFullPath(root.ModuleSource, root.Directory));
        // The state does not say which attributes are sensitive; the configuration does, also for drift.
        drifts = drifts.Select(d => d with
        {
            Prior = d.Prior with { SensitiveAttributes = desired.FirstOrDefault(r => r.Address == d.Prior.Address)?.SensitiveAttributes },
        }).ToList();
        if (destroy)
        {
            foreach (var (resource, _) in state.Resources.Values)
                changes.Add(new PlannedChange(resource, ["delete"], null));
        }
        else
        {
            foreach (var resource in desired)
            {
                if (!state.Resources.TryGetValue(resource.Address, out var existing))
                {
                    changes.Add(new PlannedChange(resource, ["create"], null));
                    continue;
                }
                var differs = resource.Attributes.Where(a => !JsonNode.DeepEquals(a.Value, existing.Resource.Attributes[a.Key])).Select(a => a.Key)
                    .ToList();
                if (differs.Count == 0) continue;
                changes.Add(differs.Any(d => resource.ReplaceOn?.Contains(d) == true)
                    ? new PlannedChange(resource, ["delete", "create"], "cannot_update")
                    : new PlannedChange(resource, ["update"], null));
            }
            var wanted = desired.Select(r => r.Address).ToHashSet(StringComparer.Ordinal);
            foreach (var (resource, _) in state.Resources.Values.Where(r => !wanted.Contains(r.Resource.Address)))
                changes.Add(new PlannedChange(resource, ["delete"], resource.Module.Contains("[\"", StringComparison.Ordinal)
                    ? "delete_because_no_module" : "delete_because_no_resource_config"));
        }
        return new SandboxPlan(destroy ? "destroy" : "apply", state.Serial, (JsonObject)root.Variables.DeepClone(), root.Outputs,
            changes.OrderBy(c => c.Resource.Address, StringComparer.Ordinal).ToList())
        {
            StatePath = root.StatePath(),
            Drifts = drifts,
        };
    }

    public int Add => Changes.Count(c => c.Actions.Contains("create"));
    public int Change => Changes.Count(c => c.Actions is ["update"]);
    public int Remove => Changes.Count(c => c.Actions.Contains("delete"));

    public void Save(string path)
    {
        var document = new JsonObject
        {
            ["sandbox_plan"] = 1,
            ["operation"] = Operation,
            ["prior_serial"] = PriorSerial,
            ["state_path"] = StatePath,
            ["variables"] = Variables.DeepClone(),
            ["outputs"] = new JsonArray(Outputs.Select(o => (JsonNode)new JsonObject { ["name"] = o.Name, ["sensitive"] = o.Sensitive }).ToArray()),
            ["changes"] = new JsonArray(Changes.Select(c => (JsonNode)new JsonObject
            {
                ["actions"] = new JsonArray(c.Actions.Select(a => (JsonNode)a).ToArray()),
                ["reason"] = c.Reason,
                ["module"] = c.Resource.Module,
                ["type"] = c.Resource.Type,
                ["name"] = c.Resource.Name,
                ["key"] = c.Resource.Key?.DeepClone(),
                ["wave"] = c.Resource.Wave,
                ["seconds"] = c.Resource.Seconds,
                ["attributes"] = c.Resource.Attributes.DeepClone(),
                ["replace_on"] = new JsonArray((c.Resource.ReplaceOn ?? []).Select(a => (JsonNode)a).ToArray()),
                ["sensitive"] = new JsonArray((c.Resource.SensitiveAttributes ?? []).Select(a => (JsonNode)a).ToArray()),
            }).ToArray()),
        };
        if (Drifts.Count > 0)
        {
            document["drift"] = new JsonArray(Drifts.Select(d => (JsonNode)new JsonObject
            {
                ["module"] = d.Prior.Module,
                ["type"] = d.Prior.Type,
                ["name"] = d.Prior.Name,
                ["key"] = d.Prior.Key?.DeepClone(),
                ["wave"] = d.Prior.Wave,
                ["seconds"] = d.Prior.Seconds,
                ["id"] = d.Id,
                ["attributes"] = d.Prior.Attributes.DeepClone(),
                ["cloud"] = d.Cloud?.DeepClone(),
                ["sensitive"] = new JsonArray((d.Prior.SensitiveAttributes ?? []).Select(a => (JsonNode)a).ToArray()),
            }).ToArray());
        }
        File.WriteAllText(path, document.ToJsonString());
    }

    public static SandboxPlan Load(string path)
    {
        var document = RootModule.ReadObject(path);
        if (document?["sandbox_plan"] is null)
            throw new SandboxError(Diagnostic.Error("Failed to load \"" + Path.GetFileName(path) + "\" as a plan file",
                "Error: stat " + Path.GetFileName(path) + ": no such file or directory"));
        var changes = (document["changes"] as JsonArray ?? []).Select(c => new PlannedChange(
            new SimResource(
                c!["module"]!.GetValue<string>(), c["type"]!.GetValue<string>(), c["name"]!.GetValue<string>(), c["key"]?.DeepClone(),
                c["wave"]!.GetValue<int>(), c["seconds"]!.GetValue<int>(), (JsonObject)c["attributes"]!.DeepClone(),
                c["replace_on"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray(),
                c["sensitive"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray()),
            c["actions"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray(),
            c["reason"]?.GetValue<string>())).ToList();
        var outputs = (document["outputs"] as JsonArray ?? []).Select(o => (o!["name"]!.GetValue<string>(), o["sensitive"]!.GetValue<bool>()))
            .ToList();
        var drifts = (document["drift"] as JsonArray ?? []).Select(d => new Drift(
            new SimResource(
                d!["module"]!.GetValue<string>(), d["type"]!.GetValue<string>(), d["name"]!.GetValue<string>(), d["key"]?.DeepClone(),
                d["wave"]!.GetValue<int>(), d["seconds"]!.GetValue<int>(), (JsonObject)d["attributes"]!.DeepClone(),
                SensitiveAttributes: d["sensitive"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray()),
            d["id"]!.GetValue<string>(),
            d["cloud"]?.DeepClone() as JsonObject)).ToList();
        return new SandboxPlan(document["operation"]!.GetValue<string>(), document["prior_serial"]!.GetValue<int>(),
            (JsonObject)document["variables"]!.DeepClone(), outputs, changes)
        {
            StatePath = document["state_path"]?.GetValue<string>(),
            Drifts = drifts,
        };
    }

    /// <summary>
    /// <c>tofu show -json</c> of the plan: OpenTofu's JSON plan representation. As in OpenTofu's, the
    /// variables and the planned attribute values are all there, sensitive ones only flagged in
    /// <c>after_sensitive</c>: a consumer must pick addresses and actions and leave the rest.
    /// <paramref name="state"/> is the refreshed state (<see cref="Drifts"/> taken into it): what
    /// <c>before</c> of a change shows, as OpenTofu's prior state does.
    /// </summary>
    /// <summary>One entry of <c>resource_changes</c> or <c>resource_drift</c>: the object's address parts, then its change.</summary>
    private static JsonObject ResourceEntry(SimResource r, JsonObject change)
    {
        var entry = new JsonObject
        {
            ["address"] = r.Address,
            ["module_address"] = r.Module.Length > 0 ? r.Module : null,
            ["mode"] = "managed",
            ["type"] = r.Type,
            ["name"] = r.Name,
            ["index"] = r.Key?.DeepClone(),
            ["provider_name"] = r.ProviderName,
            ["change"] = change,
        };
        // OpenTofu omits them when empty.
        if (entry["module_address"] is null) entry.Remove("module_address");
        if (entry["index"] is null) entry.Remove("index");
        return entry;
    }

    public JsonObject ToJsonRepresentation(SandboxState state)
    {
        var variables = new JsonObject();
        foreach (var (name, value) in Variables) variables[name] = new JsonObject { ["value"] = value?.DeepClone() };

        var resourceChanges = new JsonArray();
        foreach (var change in Changes)
        {
            var r = change.Resource;
            var before = change.Actions.Contains("delete") || change.Actions is ["update"]
                ? (state.Resources.TryGetValue(r.Address, out var prior) ? Attributes(prior.Resource, prior.Id) : null)
                : null;
            JsonObject? after = change.Actions is ["delete"] ? null : Attributes(r, null);
            var afterSensitive = new JsonObject();
            foreach (var name in r.SensitiveAttributes ?? []) afterSensitive[name] = true;
            // The bootstrap Secret's body carries the token: present in the plan, flagged sensitive, as OpenTofu shows it.
            if (after is not null && r.Type == "kubectl_manifest" && r.Name == "bootstrap_token")
                after["yaml_body"] = $"stringData:\n  token: {Variables["agent_bootstrap_token"]?.ToJsonString()}\n";

            var entry = ResourceEntry(r, new JsonObject
            {
                ["actions"] = new JsonArray(change.Actions.Select(a => (JsonNode)a).ToArray()),
                ["before"] = before,
                ["after"] = after,
                ["after_unknown"] = after is null ? new JsonObject() : new JsonObject { ["id"] = true, ["arn"] = true },
                ["before_sensitive"] = before is null ? false : new JsonObject(),
                ["after_sensitive"] = after is null ? false : afterSensitive,
            });
            if (change.Reason is not null) entry["action_reason"] = change.Reason switch
            {
                "cannot_update" => "replace_because_cannot_update",
                var other => other,
            };
            resourceChanges.Add(entry);
        }

        // Changes made outside OpenTofu, shaped like resource_changes: before is what the state had,
        // after what the refresh found (null for an object that is gone).
        var resourceDrift = new JsonArray();
        var relevantAttributes = new JsonArray();
        foreach (var drift in Drifts)
        {
            var r = drift.Prior;
            var planned = Changes.FirstOrDefault(c => c.Resource.Address == r.Address)?.Resource;
            JsonNode Sensitivity()
            {
                var flags = new JsonObject();
                foreach (var name in r.SensitiveAttributes ?? []) flags[name] = true;
                return flags;
            }
            resourceDrift.Add(ResourceEntry(r, new JsonObject
            {
                ["actions"] = new JsonArray(drift.Action),
                ["before"] = Attributes(r, drift.Id),
                ["after"] = drift.Cloud is null ? null : Attributes(drift.Refreshed, drift.Id),
                ["after_unknown"] = new JsonObject(),
                ["before_sensitive"] = Sensitivity(),
                ["after_sensitive"] = drift.Cloud is null ? false : Sensitivity(),
            }));

            // The attributes of the drift the configuration has an opinion on: the ones the plan acts on.
            if (drift.Cloud is null || planned is null) continue;
            foreach (var (name, value) in drift.Cloud)
                if (planned.Attributes.ContainsKey(name) && !JsonNode.DeepEquals(value, r.Attributes[name]))
                    relevantAttributes.Add(new JsonObject { ["resource"] = r.Address, ["attribute"] = new JsonArray(name) });
        }

        var outputChanges = new JsonObject();
        foreach (var (name, sensitive) in Outputs)
        {
            var existed = state.Outputs.ContainsKey(name);
            string[] actions = Operation == "destroy" ? ["delete"] : existed ? ["no-op"] : ["create"];
            outputChanges[name] = new JsonObject
            {
                ["actions"] = new JsonArray(actions.Select(a => (JsonNode)a).ToArray()),
                ["before"] = existed ? state.Outputs[name]?["value"]?.DeepClone() : null,
                ["after"] = null,
                ["after_unknown"] = Operation != "destroy",
                ["before_sensitive"] = sensitive,
                ["after_sensitive"] = sensitive,
            };
        }

        var representation = new JsonObject
        {
            ["format_version"] = "1.2",
            ["terraform_version"] = Program.TofuVersion,
            ["variables"] = variables,
            ["planned_values"] = new JsonObject { ["root_module"] = new JsonObject() },
        };
        // Left out when empty, as OpenTofu leaves it out.
        if (resourceDrift.Count > 0) representation["resource_drift"] = resourceDrift;
        representation["resource_changes"] = resourceChanges;
        representation["output_changes"] = outputChanges;
        representation["configuration"] = new JsonObject
        {
            ["provider_config"] = new JsonObject
            {
                ["aws"] = new JsonObject
                {
                    ["name"] = "aws",
                    ["full_name"] = "registry.opentofu.org/hashicorp/aws"
                }
            },
            ["root_module"] = new JsonObject(),
        };
        if (relevantAttributes.Count > 0) representation["relevant_attributes"] = relevantAttributes;
        representation["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        representation["applyable"] = Changes.Count > 0;
        representation["complete"] = true;
        representation["errored"] = false;
        return representation;
    }

    private static JsonObject Attributes(SimResource resource, string? id)
    {
        var attributes = (JsonObject)resource.Attributes.DeepClone();
        if (id is not null) attributes["id"] = id;
        return attributes;
    }
}
