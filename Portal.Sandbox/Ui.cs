using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// Writes OpenTofu's machine-readable UI: one JSON object per line, with the common fields
/// (<c>@level</c>, <c>@message</c>, <c>@module</c> = "tofu.ui", <c>@timestamp</c>, <c>type</c>) and the
/// message's own, keys in the alphabetical order OpenTofu's logger prints them in.
/// Safe to call from concurrent resource operations: lines never interleave.
/// </summary>
public sealed class Ui(TextWriter output)
{
    public const string UiVersion = "1.2";
    private readonly Lock gate = new();

    public void Text(string text)
    {
        lock (gate)
        {
            output.WriteLine(text);
            output.Flush();
        }
    }

    public void Version(string tofuVersion) =>
        Message("info", $"OpenTofu {tofuVersion}", "version", new() { ["tofu"] = tofuVersion, ["ui"] = UiVersion });

    public void Log(string message) => Message("info", message, "log", []);

    public void Diagnostic(Diagnostic diagnostic)
    {
        var body = new JsonObject
        {
            ["severity"] = diagnostic.Severity,
            ["summary"] = diagnostic.Summary,
            ["detail"] = diagnostic.Detail,
        };
        if (diagnostic.Address is not null) body["address"] = diagnostic.Address;
        if (diagnostic.File is not null)
        {
            body["range"] = new JsonObject
            {
                ["filename"] = diagnostic.File,
                ["start"] = new JsonObject { ["line"] = diagnostic.Line, ["column"] = 3, ["byte"] = diagnostic.Line * 40 },
                ["end"] = new JsonObject { ["line"] = diagnostic.Line, ["column"] = 30, ["byte"] = diagnostic.Line * 40 + 27 },
            };
            if (diagnostic.Code is not null)
            {
                body["snippet"] = new JsonObject
                {
                    ["context"] = diagnostic.Context,
                    ["code"] = diagnostic.Code,
                    ["start_line"] = diagnostic.Line,
                    ["highlight_start_offset"] = 2,
                    ["highlight_end_offset"] = Math.Max(3, diagnostic.Code.Length),
                    ["values"] = new JsonArray(),
                };
            }
        }
        var prefix = diagnostic.Severity == "warning" ? "Warning" : "Error";
        Message(diagnostic.Severity == "warning" ? "warn" : "error", $"{prefix}: {diagnostic.Summary}", "diagnostic",
            new() { ["diagnostic"] = body });
    }

    public void PlannedChange(SimResource resource, string action, string? reason)
    {
        var change = new JsonObject { ["resource"] = resource.AddressObject(), ["action"] = action };
        if (reason is not null) change["reason"] = reason;
        Message("info", $"{resource.Address}: Plan to {action}", "planned_change", new() { ["change"] = change });
    }

    /// <summary>An object the refresh found changed (<c>update</c>) or gone (<c>delete</c>) outside OpenTofu.</summary>
    public void ResourceDrift(SimResource resource, string action) =>
        Message("info", $"{resource.Address}: Drift detected ({action})", "resource_drift", new()
        {
            ["change"] = new JsonObject { ["resource"] = resource.AddressObject(), ["action"] = action },
        });

    public void ChangeSummary(int add, int change, int remove, string operation)
    {
        var message = operation switch
        {
            "apply" => $"Apply complete! Resources: {add} added, {change} changed, {remove} destroyed.",
            "destroy" when add + change == 0 && remove >= 0 => $"Destroy complete! Resources: {remove} destroyed.",
            _ => $"Plan: {add} to add, {change} to change, {remove} to destroy.",
        };
        Message("info", message, "change_summary", new()
        {
            ["changes"] = new JsonObject { ["add"] = add, ["change"] = change, ["import"] = 0, ["remove"] = remove, ["operation"] = operation },
        });
    }

    /// <summary>A resource's progress through apply or refresh: the <c>hook</c> messages.</summary>
    public void Hook(string type, string message, SimResource resource, string? action = null, double? elapsedSeconds = null, string? id = null)
    {
        var hook = new JsonObject { ["resource"] = resource.AddressObject() };
        if (action is not null) hook["action"] = action;
        if (id is not null)
        {
            hook["id_key"] = "id";
            hook["id_value"] = id;
        }
        if (elapsedSeconds is not null) hook["elapsed_seconds"] = elapsedSeconds;
        Message("info", message, type, new() { ["hook"] = hook });
    }

    /// <summary>
    /// After an apply the outputs message carries every value, sensitive ones included (flagged only):
    /// that is what OpenTofu does, and the reason a consumer must drop them.
    /// </summary>
    public void Outputs(JsonObject outputs) =>
        Message("info", $"Outputs: {outputs.Count}", "outputs", new() { ["outputs"] = outputs });

    private void Message(string level, string message, string type, Dictionary<string, JsonNode?> fields)
    {
        var line = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["@level"] = level,
            ["@message"] = message,
            ["@module"] = "tofu.ui",
            ["@timestamp"] = DateTimeOffset.Now.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz"),
            ["type"] = type,
        };
        foreach (var (key, value) in fields) line[key] = value;
        var json = new JsonObject(line.Select(p => KeyValuePair.Create(p.Key, p.Value))).ToJsonString(Compact);
        Text(json);
    }

    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

public sealed record Diagnostic(string Severity, string Summary, string Detail, string? Address = null, string? File = null, int Line = 0,
    string? Code = null, string? Context = null)
{
    public static Diagnostic Error(string summary, string detail, string? address = null, string? file = null, int line = 0, string? code = null,
        string? context = null) =>
        new("error", summary, detail, address, file, line, code, context);
}
