using System.Text.Json;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>Reads <c>tofu version -json</c> and compares versions, ignoring pre-release suffixes ("1.10.0-beta1" is 1.10.0).</summary>
public static class TofuVersion
{
    public static Version? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var core = text.Trim().TrimStart('v').Split('-', '+')[0];
        return Version.TryParse(core.Contains('.') ? core : core + ".0", out var version) ? version : null;
    }

    /// <summary>The version in <c>tofu version -json</c> output, which keeps Terraform's field name <c>terraform_version</c>.</summary>
    public static string? FromVersionJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("terraform_version", out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
