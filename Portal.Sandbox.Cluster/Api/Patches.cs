using System.Text.Json.Nodes;

namespace Cogrion.Sandbox.Cluster.Api;

/// <summary>A patch the API server refuses (422, or 400 for a malformed one).</summary>
public sealed class PatchException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;
}

/// <summary>
/// Server-side apply, as far as a single client per field needs it: the applied object's fields
/// replace or extend the stored ones; maps merge; lists Kubernetes treats as maps keyed by "name"
/// (containers, env, ports, volumes, volumeMounts) merge entry by entry; other lists are replaced.
/// Each manager's applied fields are kept in metadata.managedFields (FieldsV1, "f:" keys), so a
/// field the same manager applied before and omits now is removed, as Kubernetes does. Conflicts
/// between managers are not modelled: every writer here applies with force.
/// </summary>
public static class ServerSideApply
{
    /// <summary>Applies <paramref name="applied"/> as <paramref name="manager"/>: drops what it owned and no longer applies, then merges.</summary>
    public static JsonObject Apply(JsonObject? existing, JsonObject applied, string manager, string now)
    {
        var result = (JsonObject?)existing?.DeepClone() ?? [];
        var fields = FieldSet(applied);
        var entries = result["metadata"]?["managedFields"] as JsonArray ?? [];
        var mine = entries.OfType<JsonObject>()
            .FirstOrDefault(e => e["manager"]?.GetValue<string>() == manager && e["operation"]?.GetValue<string>() == "Apply");
        if (mine?["fieldsV1"] is JsonObject owned) RemoveDropped(result, owned, fields);
        MergeInto(result, applied);
        var metadata = result["metadata"] as JsonObject ?? [];
        result["metadata"] = metadata;
        var kept = new JsonArray(entries.OfType<JsonObject>().Where(e => !ReferenceEquals(e, mine)).Select(e => (JsonNode)e.DeepClone()).ToArray());
        kept.Add(new JsonObject
        {
            ["manager"] = manager,
            ["operation"] = "Apply",
            ["apiVersion"] = applied["apiVersion"]?.DeepClone(),
            ["time"] = now,
            ["fieldsType"] = "FieldsV1",
            ["fieldsV1"] = fields,
        });
        metadata["managedFields"] = kept;
        return result;
    }

    /// <summary>The fields an object sets, as Kubernetes' FieldsV1 ("f:name" keys; a leaf is {}); status and managedFields are not applied
    /// fields.</summary>
    private static JsonObject FieldSet(JsonObject applied)
    {
        var set = new JsonObject();
        foreach (var (key, value) in applied)
        {
            if (key is "status" or "managedFields") continue;
            set[$"f:{key}"] = value is JsonObject child ? FieldSet(child) : new JsonObject();
        }
        return set;
    }

    private static void RemoveDropped(JsonObject target, JsonObject owned, JsonObject applying)
    {
        foreach (var (fieldKey, sub) in owned)
        {
            var key = fieldKey[2..];
            if (!applying.ContainsKey(fieldKey)) target.Remove(key);
            else if (sub is JsonObject { Count: > 0 } ownedChild && applying[fieldKey] is JsonObject applyingChild
                && target[key] is JsonObject targetChild)
                RemoveDropped(targetChild, ownedChild, applyingChild);
        }
    }

    private static readonly HashSet<string> ListsKeyedByName = ["containers", "initContainers", "env", "ports", "volumes", "volumeMounts"];

    public static JsonObject Merge(JsonObject? existing, JsonObject applied)
    {
        var result = (JsonObject?)existing?.DeepClone() ?? [];
        MergeInto(result, applied);
        return result;
    }

    private static void MergeInto(JsonObject target, JsonObject source)
    {
        foreach (var (key, value) in source)
        {
            if (value is JsonObject child && target[key] is JsonObject existing) MergeInto(existing, child);
            else if (value is JsonArray list && target[key] is JsonArray current && ListsKeyedByName.Contains(key)
                && list.All(e => e?["name"] is not null))
            {
                var merged = new JsonArray();
                foreach (var item in list)
                {
                    var name = item!["name"]!.GetValue<string>();
                    var match = current.FirstOrDefault(c => c?["name"]?.GetValue<string>() == name) as JsonObject;
                    var entry = (JsonObject?)match?.DeepClone() ?? [];
                    MergeInto(entry, (JsonObject)item);
                    merged.Add(entry);
                }
                target[key] = merged;
            }
            else target[key] = value?.DeepClone();
        }
    }
}

/// <summary>RFC 6902 JSON Patch: add, remove, replace, test (the operations clients send to Kubernetes).</summary>
public static class JsonPatch
{
    public static JsonObject Apply(JsonObject document, JsonArray operations)
    {
        var result = (JsonObject)document.DeepClone();
        foreach (var operation in operations)
        {
            var op = operation?["op"]?.GetValue<string>() ?? throw new PatchException(400, "a JSON patch operation has no \"op\"");
            var path = operation["path"]?.GetValue<string>() ?? throw new PatchException(400, $"the \"{op}\" operation has no \"path\"");
            var (parent, last) = Locate(result, path);
            var value = operation["value"];
            switch (op)
            {
                case "test":
                    if (!JsonNode.DeepEquals(Read(parent, last, path), value))
                        throw new PatchException(422, $"the server rejected our request due to an error in our request: testing value {path} failed");
                    break;
                case "replace":
                    Read(parent, last, path);
                    Write(parent, last, value?.DeepClone(), replace: true, path);
                    break;
                case "add":
                    Write(parent, last, value?.DeepClone(), replace: false, path);
                    break;
                case "remove":
                    Read(parent, last, path);
                    if (parent is JsonObject o) o.Remove(last);
                    else if (parent is JsonArray a) a.RemoveAt(Index(a, last, path, allowEnd: false));
                    break;
                default:
                    throw new PatchException(400, $"the JSON patch operation \"{op}\" is not supported");
            }
        }
        return result;
    }

    private static (JsonNode Parent, string Last) Locate(JsonObject document, string path)
    {
        if (!path.StartsWith('/')) throw new PatchException(400, $"\"{path}\" is not a JSON pointer");
        var segments = path[1..].Split('/').Select(s => s.Replace("~1", "/").Replace("~0", "~")).ToArray();
        JsonNode current = document;
        foreach (var segment in segments[..^1])
        {
            current = current switch
            {
                JsonObject o when o[segment] is { } next => next,
                JsonArray a when a[Index(a, segment, path, allowEnd: false)] is { } item => item,
                _ => throw new PatchException(422, $"the server rejected our request due to an error in our request: {path} does not exist"),
            };
        }
        return (current, segments[^1]);
    }

    private static JsonNode? Read(JsonNode parent, string last, string path) => parent switch
    {
        JsonObject o when o.ContainsKey(last) => o[last],
        JsonArray a => a[Index(a, last, path, allowEnd: false)],
        _ => throw new PatchException(422, $"the server rejected our request due to an error in our request: {path} does not exist"),
    };

    private static void Write(JsonNode parent, string last, JsonNode? value, bool replace, string path)
    {
        if (parent is JsonObject o) o[last] = value;
        else if (parent is JsonArray a)
        {
            var index = Index(a, last, path, allowEnd: !replace);
            if (replace) a[index] = value;
            else a.Insert(index, value);
        }
    }

    private static int Index(JsonArray array, string segment, string path, bool allowEnd)
    {
        if (allowEnd && segment == "-") return array.Count;
        if (int.TryParse(segment, out var index) && index >= 0 && (index < array.Count || (allowEnd && index == array.Count))) return index;
        throw new PatchException(422, $"the server rejected our request due to an error in our request: {path}: index {segment} is out of range");
    }
}
