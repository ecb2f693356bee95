using System.Text.Json;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// What a saved plan will do, by resource address: what an approver reads. Built from
/// <c>tofu show -json plan.tfplan</c>, whose document also holds every variable and attribute value
/// (sensitive ones included, merely flagged); only addresses and actions are taken from it.
/// </summary>
public sealed record TofuPlanSummary(
    IReadOnlyList<string> ToAdd,
    IReadOnlyList<string> ToChange,
    IReadOnlyList<string> ToDestroy,
    IReadOnlyList<string> ToReplace,
    IReadOnlyList<string> Drifted,
    IReadOnlyList<TofuOutputChange> OutputChanges)
{
    /// <summary>What the plan would do, as a digest without secrets (<see cref="TofuPlanFingerprint"/>): equal fingerprints, same changes.</summary>
    public string Fingerprint { get; init; } = "";

    public bool HasChanges => ToAdd.Count + ToChange.Count + ToDestroy.Count + ToReplace.Count > 0;

    /// <summary>In OpenTofu's own words and counts: a replacement is one add and one destroy.</summary>
    public string Headline => HasChanges
        ? $"Plan: {ToAdd.Count + ToReplace.Count} to add, {ToChange.Count} to change, {ToDestroy.Count + ToReplace.Count} to destroy."
        : "No changes. Your infrastructure matches the configuration.";

    /// <summary>Reads the plan representation; throws <see cref="JsonException"/> if it is not one.</summary>
    public static TofuPlanSummary Parse(string planJson)
    {
        using var document = JsonDocument.Parse(planJson, new JsonDocumentOptions { MaxDepth = 256 });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format_version", out _))
            throw new JsonException("This is not an OpenTofu plan representation (no format_version).");

        List<string> add = [], change = [], destroy = [], replace = [], drifted = [];
        foreach (var resource in Array(root, "resource_changes"))
        {
            if (Address(resource) is not { } address) continue;
            switch (Actions(resource))
            {
                case ["create"]: add.Add(address); break;
                case ["update"]: change.Add(address); break;
                case ["delete"]: destroy.Add(address); break;
                case ["delete", "create"] or ["create", "delete"]: replace.Add(address); break;
                    // no-op, read (data sources) and forget change nothing in the cloud.
            }
        }
        foreach (var resource in Array(root, "resource_drift"))
            if (Address(resource) is { } address) drifted.Add(address);

        var outputs = new List<TofuOutputChange>();
        if (root.TryGetProperty("output_changes", out var outputChanges) && outputChanges.ValueKind == JsonValueKind.Object)
        {
            foreach (var output in outputChanges.EnumerateObject())
            {
                var actions = output.Value.TryGetProperty("actions", out var a) && a.ValueKind == JsonValueKind.Array
                    ? a.EnumerateArray().Select(x => x.GetString() ?? "").ToArray() : [];
                if (actions is ["no-op"]) continue;
                outputs.Add(new TofuOutputChange(output.Name, string.Join('/', actions)));
            }
        }
        return new TofuPlanSummary(add, change, destroy, replace, drifted, outputs) { Fingerprint = TofuPlanFingerprint.Of(root) };
    }

    private static IEnumerable<JsonElement> Array(JsonElement root, string name) =>
        root.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : [];

    private static string? Address(JsonElement resource) =>
        resource.TryGetProperty("address", out var address) && address.ValueKind == JsonValueKind.String ? address.GetString() : null;

    private static string[] Actions(JsonElement resource) =>
        resource.TryGetProperty("change", out var change) && change.TryGetProperty("actions", out var actions)
            && actions.ValueKind == JsonValueKind.Array
            ? actions.EnumerateArray().Select(a => a.GetString() ?? "").ToArray()
            : [];
}

public sealed record TofuOutputChange(string Name, string Action);
