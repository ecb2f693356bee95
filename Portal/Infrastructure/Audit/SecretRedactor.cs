using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cogrion.Portal.Infrastructure.Audit;

/// <summary>
/// The last line of defence that keeps secret values out of the audit trail: values under
/// secret-sounding keys are replaced, and so is any occurrence of a secret the Portal itself
/// knows (its client secret, its database password), wherever it appears.
/// Callers should not put secrets in an audit entry in the first place; this catches mistakes.
/// </summary>
public sealed partial class SecretRedactor
{
    public const string Mask = "[redacted]";
    private readonly string[] knownSecrets;

    public SecretRedactor(IEnumerable<string?> knownSecrets)
    {
        // Very short values would mask ordinary words; a real secret is never that short.
        this.knownSecrets = knownSecrets.Where(s => s is { Length: >= 6 }).Select(s => s!).Distinct().ToArray();
    }

    [GeneratedRegex("(password|passwd|secret|token|credential|private_?key|api_?key|access_?key|assertion|cookie|authorization)",
        RegexOptions.IgnoreCase)]
    private static partial Regex SecretKeyName();

    public static bool IsSecretKey(string key) => SecretKeyName().IsMatch(key);

    public string? RedactText(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text;
        foreach (var secret in knownSecrets)
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        return text;
    }

    /// <summary>Serialises <paramref name="details"/> to JSON with every secret masked.</summary>
    public string RedactToJson(object? details)
    {
        if (details is null) return "{}";
        var node = details as JsonNode ?? JsonSerializer.SerializeToNode(details, details.GetType(), JsonOptions);
        var redacted = Redact(node);
        return redacted is JsonObject ? redacted.ToJsonString() : new JsonObject { ["value"] = redacted }.ToJsonString();
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (key, value) in obj)
                    copy[key] = IsSecretKey(key) && value is not null ? JsonValue.Create(Mask) : Redact(value);
                return copy;
            case JsonArray array:
                return new JsonArray(array.Select(Redact).ToArray());
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return JsonValue.Create(RedactText(value.GetValue<string>()));
            default:
                return node?.DeepClone();
        }
    }
}
