using System.Globalization;
using System.Text.Json;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// Reads one line of <c>tofu plan|apply -json</c> output into a <see cref="TofuEvent"/>. Follows the
/// machine-readable UI contract (opentofu.org/docs/internals/machine-readable-ui): unknown fields are
/// ignored, unknown message types keep their text, and a line that is not a JSON object passes through
/// as text. Never throws on odd input: a log must not die of one strange line.
/// </summary>
public static class TofuUiParser
{
    public static TofuEvent Parse(string line, bool fromStandardError = false)
    {
        var trimmed = line.TrimStart();
        if (!trimmed.StartsWith('{')) return new TofuTextLine(line, fromStandardError);
        try
        {
            using var document = JsonDocument.Parse(trimmed);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement)
                || typeElement.ValueKind != JsonValueKind.String)
                return new TofuTextLine(line, fromStandardError);
            return ParseMessage(root, typeElement.GetString()!);
        }
        catch (JsonException)
        {
            return new TofuTextLine(line, fromStandardError);
        }
    }

    private static TofuEvent ParseMessage(JsonElement root, string type)
    {
        var level = ParseLevel(Text(root, "@level"));
        var message = Text(root, "@message") ?? "";
        var timestamp = DateTimeOffset.TryParse(Text(root, "@timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.None, out var at) ? at
            : (DateTimeOffset?)null;

        switch (type)
        {
            case "version":
                // OpenTofu names its version "tofu"; Terraform (and the docs' older samples) "terraform".
                return new TofuVersionMessage(level, message, timestamp, Text(root, "tofu") ?? Text(root, "terraform") ?? "", Text(root, "ui") ?? "");
            case "log":
                return new TofuLogMessage(level, message, timestamp);
            case "diagnostic" when root.TryGetProperty("diagnostic", out var diagnostic):
                return new TofuDiagnosticMessage(level, message, timestamp, ParseDiagnostic(diagnostic));
            case "planned_change" or "resource_drift" when root.TryGetProperty("change", out var change) && ParseResource(change) is { } changed:
                return new TofuResourceChangeMessage(level, message, timestamp, changed, Text(change, "action") ?? "", Text(change, "reason"),
                    type == "resource_drift");
            case "change_summary" when root.TryGetProperty("changes", out var changes):
                return new TofuChangeSummaryMessage(level, message, timestamp, new TofuChangeCounts(
                    Number(changes, "add"), Number(changes, "change"), Number(changes, "import"), Number(changes, "remove"),
                        Text(changes, "operation") ?? ""));
            case "outputs" when root.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Object:
                return new TofuOutputsMessage(level, message, timestamp, outputs.EnumerateObject()
                    .Select(o
                        => new TofuOutputName(o.Name, o.Value.TryGetProperty("sensitive", out var s) && s.ValueKind == JsonValueKind.True,
                        Text(o.Value, "action")))
                    .ToList());
            default:
                if (HookKind(type) is { } kind && root.TryGetProperty("hook", out var hook) && ParseResource(hook) is { } resource)
                {
                    TimeSpan? elapsed = hook.TryGetProperty("elapsed_seconds", out var e) && e.TryGetDouble(out var seconds)
                        ? TimeSpan.FromSeconds(seconds) : null;
                    return new TofuHookMessage(level, message, timestamp, kind, resource, Text(hook, "action"), elapsed, Text(hook, "id_key"),
                        Text(hook, "id_value"));
                }
                return new TofuOtherMessage(level, message, timestamp, type);
        }
    }

    private static TofuHookKind? HookKind(string type) => type switch
    {
        "apply_start" => TofuHookKind.ApplyStart,
        "apply_progress" => TofuHookKind.ApplyProgress,
        "apply_complete" => TofuHookKind.ApplyComplete,
        "apply_errored" => TofuHookKind.ApplyErrored,
        "refresh_start" => TofuHookKind.RefreshStart,
        "refresh_complete" => TofuHookKind.RefreshComplete,
        "provision_start" => TofuHookKind.ProvisionStart,
        "provision_progress" => TofuHookKind.ProvisionProgress,
        "provision_complete" => TofuHookKind.ProvisionComplete,
        "provision_errored" => TofuHookKind.ProvisionErrored,
        _ => null,
    };

    private static TofuDiagnostic ParseDiagnostic(JsonElement diagnostic)
    {
        TofuSourceRange? range = null;
        if (diagnostic.TryGetProperty("range", out var r) && r.ValueKind == JsonValueKind.Object && Text(r, "filename") is { } file)
        {
            var start = r.TryGetProperty("start", out var s) ? s : default;
            range = new TofuSourceRange(file, start.ValueKind == JsonValueKind.Object ? Number(start, "line") : 0,
                start.ValueKind == JsonValueKind.Object ? Number(start, "column") : 0);
        }
        // The snippet (source code and expression values) is left out on purpose: values may be secrets.
        return new TofuDiagnostic(ParseLevel(Text(diagnostic, "severity")), Text(diagnostic, "summary") ?? "", Text(diagnostic, "detail") ?? "",
            Text(diagnostic, "address"), range);
    }

    private static TofuResource? ParseResource(JsonElement container)
    {
        if (!container.TryGetProperty("resource", out var resource) || resource.ValueKind != JsonValueKind.Object) return null;
        var key = resource.TryGetProperty("resource_key", out var k) ? k.ValueKind switch
        {
            JsonValueKind.String => k.GetString(),
            JsonValueKind.Number => k.GetRawText(),
            _ => null,
        } : null;
        return new TofuResource(Text(resource, "addr") ?? "", Text(resource, "module") ?? "", Text(resource, "resource_type") ?? "",
            Text(resource, "resource_name") ?? "", key);
    }

    private static TofuLevel ParseLevel(string? level) => level switch
    {
        "error" => TofuLevel.Error,
        "warn" or "warning" => TofuLevel.Warning,
        _ => TofuLevel.Info,
    };

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() : null;

    private static int Number(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.TryGetInt32(out var number) ? number : 0;
}
