using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.Http;
using Json.Schema;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>
/// An app's values: the catalog's defaults with a person's choices laid over them, checked against the
/// app's values.schema.json (JsonSchema.Net, draft 2020-12) on the server whatever the form checked.
/// Field names in errors are <c>values.&lt;dotted path&gt;</c>, the same the form puts on its inputs.
/// </summary>
public static class AppValues
{
    public const string FieldPrefix = "values";

    /// <summary>Defaults overlaid with <paramref name="overrides"/>: objects merge key by key, anything else replaces.</summary>
    public static JsonObject Merge(JsonObject defaults, JsonObject? overrides)
    {
        var merged = (JsonObject)defaults.DeepClone();
        if (overrides is null) return merged;
        foreach (var (key, value) in overrides)
            merged[key] = value is JsonObject child && merged[key] is JsonObject existing ? Merge(existing, child) : value?.DeepClone();
        return merged;
    }

    /// <summary>Every problem with <paramref name="values"/> at once: secret fields given in plain text, and every schema violation.</summary>
    public static FieldErrors Validate(CatalogApp app, JsonObject values)
    {
        var errors = new FieldErrors();
        foreach (var (path, value) in Leaves(values, ""))
            if (app.IsSecret(path) && value is not null && !(value is JsonValue v && v.TryGetValue<string>(out var text) && text.Length == 0))
                errors.Add(Field(path),
                    $"{path} is a secret, and the Portal never takes a secret in plain text: seal it in the browser to the agent's key " +
                    "(the form's secret field) or with `cogrion-agent seal`, and send it in `secrets`.");
        var results = app.Schema.Evaluate(AppCatalog.ToElement(values), new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid) return errors;
        foreach (var detail in results.Details ?? [])
        {
            if (detail.Errors is not { Count: > 0 } messages) continue;
            var path = string.Join('.', detail.InstanceLocation.ToString().Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Unescape));
            // A property the schema does not list fails its "additionalProperties: false" with a generic message: say what it means.
            var unknown = detail.EvaluationPath.ToString().EndsWith("/additionalProperties", StringComparison.Ordinal);
            foreach (var message in messages.Values.Select(m => unknown ? $"{path} is not an option of {app.DisplayName}." : m))
                if (errors.For(Field(path)) is not { } already || !already.Contains(message, StringComparison.Ordinal))
                    errors.Add(Field(path), message);
        }
        if (errors.IsEmpty) errors.Add(FieldPrefix, "The values do not match the app's schema.");
        return errors;
    }

    public static string Field(string path) => path.Length == 0 ? FieldPrefix : $"{FieldPrefix}.{path}";

    /// <summary>Every leaf (non-object value) with its dotted path; arrays are leaves.</summary>
    public static IEnumerable<(string Path, JsonNode? Value)> Leaves(JsonObject values, string prefix)
    {
        foreach (var (key, value) in values)
        {
            var path = prefix.Length == 0 ? key : $"{prefix}.{key}";
            if (value is JsonObject child)
                foreach (var leaf in Leaves(child, path)) yield return leaf;
            else yield return (path, value);
        }
    }

    /// <summary>The leaves that differ between two value sets: (path, before, after), for the upgrade's diff.</summary>
    public static IReadOnlyList<ValueChange> Diff(JsonObject before, JsonObject after)
    {
        var old = Leaves(before, "").ToDictionary(l => l.Path, l => l.Value?.ToJsonString());
        var now = Leaves(after, "").ToDictionary(l => l.Path, l => l.Value?.ToJsonString());
        return old.Keys.Union(now.Keys).Order(StringComparer.Ordinal)
            .Select(p => new ValueChange(p, old.GetValueOrDefault(p), now.GetValueOrDefault(p)))
            .Where(c => c.Before != c.After).ToList();
    }

    private static string Unescape(string segment) => segment.Replace("~1", "/", StringComparison.Ordinal)
        .Replace("~0", "~", StringComparison.Ordinal);
}

/// <summary>One value that changes: its dotted path, and its JSON before and after (null: absent).</summary>
public sealed record ValueChange(string Path, string? Before, string? After);
