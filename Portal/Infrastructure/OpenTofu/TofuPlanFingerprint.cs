using System.Security.Cryptography;
using System.Text.Json;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// A digest of what a plan would do: every resource change (address, actions, the values before and
/// after) and every output change, with sensitive values and values known only after apply replaced
/// by markers. Two plans with the same fingerprint make the same changes as far as anyone reviewing
/// them could see, so an approval of one is an approval of the other (ADR 0046): a plan made again on
/// another replica may be applied when it matches. Sensitive values are left out on purpose: each plan
/// mints a fresh agent bootstrap token, and no digest of a secret should be kept.
/// </summary>
public static class TofuPlanFingerprint
{
    private const string Sensitive = "(sensitive)";
    private const string Unknown = "(known after apply)";

    /// <summary>The fingerprint of a <c>tofu show -json</c> plan document, as lowercase hex SHA-256.</summary>
    public static string Of(JsonElement plan)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("resource_changes");
            var changes = plan.TryGetProperty("resource_changes", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().OrderBy(c => c.TryGetProperty("address", out var a) ? a.GetString() : "", StringComparer.Ordinal)
                : Enumerable.Empty<JsonElement>();
            foreach (var resource in changes)
            {
                writer.WriteStartObject();
                writer.WritePropertyName("address");
                WriteCanonical(writer, Property(resource, "address"));
                var change = Property(resource, "change");
                writer.WritePropertyName("actions");
                WriteCanonical(writer, Property(change, "actions"));
                writer.WritePropertyName("before");
                WriteMasked(writer, Property(change, "before"), Property(change, "before_sensitive"), unknown: null);
                writer.WritePropertyName("after");
                WriteMasked(writer, Property(change, "after"), Property(change, "after_sensitive"), Property(change, "after_unknown"));
                writer.WriteEndObject();
            }
            writer.WriteEndArray();

            writer.WriteStartObject("output_changes");
            if (plan.TryGetProperty("output_changes", out var outputs) && outputs.ValueKind == JsonValueKind.Object)
            {
                foreach (var output in outputs.EnumerateObject().OrderBy(o => o.Name, StringComparer.Ordinal))
                {
                    writer.WriteStartObject(output.Name);
                    writer.WritePropertyName("actions");
                    WriteCanonical(writer, Property(output.Value, "actions"));
                    writer.WritePropertyName("before");
                    WriteMasked(writer, Property(output.Value, "before"), Property(output.Value, "before_sensitive"), unknown: null);
                    writer.WritePropertyName("after");
                    WriteMasked(writer, Property(output.Value, "after"), Property(output.Value, "after_sensitive"),
                        Property(output.Value, "after_unknown"));
                    writer.WriteEndObject();
                }
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
    }

    private static JsonElement? Property(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) ? value : null;

    /// <summary>
    /// Writes <paramref name="value"/> with every part its mirror documents mark <c>true</c> replaced:
    /// OpenTofu's <c>*_sensitive</c> and <c>after_unknown</c> are the value's shape with <c>true</c> where it applies.
    /// </summary>
    private static void WriteMasked(Utf8JsonWriter writer, JsonElement? value, JsonElement? sensitive, JsonElement? unknown)
    {
        if (sensitive is { ValueKind: JsonValueKind.True }) { writer.WriteStringValue(Sensitive); return; }
        if (unknown is { ValueKind: JsonValueKind.True }) { writer.WriteStringValue(Unknown); return; }
        switch (value)
        {
            case { ValueKind: JsonValueKind.Object } obj:
                // Unknown attributes may be missing from the value: the mirror names them too.
                var names = obj.EnumerateObject().Select(p => p.Name)
                    .Concat(unknown is { ValueKind: JsonValueKind.Object } u ? u.EnumerateObject()
                        .Where(p => p.Value.ValueKind != JsonValueKind.False).Select(p => p.Name) : [])
                    .Distinct().Order(StringComparer.Ordinal);
                writer.WriteStartObject();
                foreach (var name in names)
                {
                    writer.WritePropertyName(name);
                    WriteMasked(writer, Property(obj, name), Property(sensitive, name), Property(unknown, name));
                }
                writer.WriteEndObject();
                break;
            case { ValueKind: JsonValueKind.Array } array:
                writer.WriteStartArray();
                var index = 0;
                foreach (var item in array.EnumerateArray())
                {
                    WriteMasked(writer, item, Item(sensitive, index), Item(unknown, index));
                    index++;
                }
                writer.WriteEndArray();
                break;
            default:
                WriteCanonical(writer, value);
                break;
        }
    }

    private static JsonElement? Item(JsonElement? mirror, int index) =>
        mirror is { ValueKind: JsonValueKind.Array } array && index < array.GetArrayLength() ? array[index] : null;

    /// <summary>Objects with their keys in ordinal order, so the same value always gives the same bytes.</summary>
    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case { ValueKind: JsonValueKind.Object } obj:
                writer.WriteStartObject();
                foreach (var property in obj.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case { ValueKind: JsonValueKind.Array } array:
                writer.WriteStartArray();
                foreach (var item in array.EnumerateArray()) WriteCanonical(writer, item);
                writer.WriteEndArray();
                break;
            case { } element:
                element.WriteTo(writer);
                break;
        }
    }
}
