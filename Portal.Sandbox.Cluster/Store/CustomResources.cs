using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox.Cluster.Store;

/// <summary>
/// The apiextensions part of the API server: a custom kind is served only while a CustomResourceDefinition for it is stored
/// (named {plural}.{group}, with the kind's names and scope, and its version served). Until then its paths answer 404 as
/// unknown paths do; deleting the CRD deletes its objects (<see cref="ObjectStore.Delete"/>) and the kind is gone again.
/// </summary>
public static class CustomResources
{
    /// <summary>Whether the API server serves <paramref name="type"/> now: a built-in kind always, a custom kind while its CRD says so.</summary>
    public static bool Served(ObjectStore store, ResourceType type) =>
        !type.Custom || store.Get(ResourceTypes.CustomResourceDefinition, null, type.QualifiedPlural) is { } crd && Defines(crd, type);

    /// <summary>Whether a CRD defines <paramref name="type"/>: same group, kind, plural and scope, with the type's version served.</summary>
    public static bool Defines(JsonObject crd, ResourceType type)
    {
        var spec = crd["spec"] as JsonObject;
        return Text(spec?["group"]) == type.Group
            && Text(spec?["names"]?["kind"]) == type.Kind
            && Text(spec?["names"]?["plural"]) == type.Plural
            && (Text(spec?["scope"]) == "Namespaced") == type.Namespaced
            && (spec?["versions"] as JsonArray ?? []).OfType<JsonObject>().Any(v => Text(v["name"]) == type.Version && IsTrue(v["served"]));
    }

    /// <summary>Whether a stored object is an instance of the kind a CRD defines (any version: they share one storage).</summary>
    public static bool IsInstance(JsonObject crd, JsonObject item)
    {
        var apiVersion = Text(item["apiVersion"]) ?? "";
        var group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
        return group.Length > 0 && group == Text(crd["spec"]?["group"]) && Text(item["kind"]) == Text(crd["spec"]?["names"]?["kind"]);
    }

    /// <summary>
    /// The status the apiextensions controller gives a CRD it accepts: its names accepted, Established, and the storage version
    /// recorded (clients and Helm wait for Established before they create the kind's objects).
    /// </summary>
    public static JsonObject Status(JsonObject crd, string now)
    {
        JsonObject Condition(string type, string reason, string message) => new()
        {
            ["type"] = type,
            ["status"] = "True",
            ["lastTransitionTime"] = now,
            ["reason"] = reason,
            ["message"] = message,
        };
        var versions = (crd["spec"]?["versions"] as JsonArray ?? []).OfType<JsonObject>();
        return new JsonObject
        {
            ["acceptedNames"] = crd["spec"]?["names"]?.DeepClone() ?? new JsonObject(),
            ["conditions"] = new JsonArray(
                Condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                Condition("Established", "InitialNamesAccepted", "the initial names have been accepted")),
            ["storedVersions"] = new JsonArray(versions.Where(v => IsTrue(v["storage"])).Select(v => (JsonNode?)Text(v["name"])).ToArray()),
        };
    }

    private static bool IsTrue(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.True;

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
