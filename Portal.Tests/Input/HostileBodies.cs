using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Cogrion.Portal.Tests.Input;

/// <summary>
/// JSON bodies for an endpoint's declared request type: one well-formed body with a plausible value
/// in every member, then one body per member with a single hostile value in it (NUL, a lone
/// surrogate, a bidirectional override, the wrong type, null, numbers JSON cannot hold, a null
/// element), so every field of every endpoint meets every kind of hostile value.
/// </summary>
public static class HostileBodies
{
    public sealed record Body(string What, string Json);

    /// <summary>Marks a value whose raw JSON text is spliced in after serialization: JsonNode cannot hold 1e999 or a lone surrogate.</summary>
    private const string Raw = "\u0001raw:";

    private static readonly (string What, JsonNode? Value)[] HostileStrings =
    [
        ("a NUL", JsonValue.Create("a\0b")),
        ("a lone surrogate", JsonValue.Create(Raw + "\"a\\ud800b\"")),
        ("a right-to-left override", JsonValue.Create("\u202Egnp.exe")),
        ("an invisible character", JsonValue.Create("a\u200Bb")),
        ("a very long text", JsonValue.Create(new string('x', 20_000))),
        ("an object instead of a string", new JsonObject { ["nested"] = true }),
    ];

    private static readonly (string What, string Raw)[] HostileNumbers =
    [
        ("1e999", "1e999"), ("-1e999", "-1e999"), ("a huge integer", "123456789012345678901234567890"), ("a string", "\"abc\""),
            ("a fraction", "0.5"),
    ];

    /// <summary>Bodies that are not what any endpoint reads at all.</summary>
    public static readonly Body[] Shapeless =
    [
        new("invalid JSON", "{"), new("an array", "[1,2]"), new("a string", "\"text\""), new("a number", "123"), new("null", "null"),
        new("an empty body", ""), new("an object with a NUL name", "{\"a\\u0000\":1}"), new("an infinite number", "{\"a\":1e999}"),
        new("a lone surrogate", "{\"a\":\"\\ud800\"}"),
    ];

    public static IEnumerable<Body> For(Type requestType)
    {
        var baseline = Plausible(requestType, depth: 0);
        yield return new Body("a plausible body", Write(baseline));
        if (baseline is null) yield break;
        foreach (var (path, node) in Leaves(baseline, "$"))
        {
            if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                foreach (var (what, hostile) in HostileStrings)
                    yield return new Body($"{what} in {path}", Write(Replace(baseline, path, hostile?.DeepClone())));
            if (node is JsonValue number && number.GetValueKind() == JsonValueKind.Number)
                foreach (var (what, raw) in HostileNumbers)
                    yield return new Body($"{what} in {path}", Write(Replace(baseline, path, JsonValue.Create(Raw + raw))));
            if (node is JsonArray)
            {
                yield return new Body($"a null element in {path}", Write(Replace(baseline, path, new JsonArray((JsonNode?)null))));
                yield return new Body($"an object instead of an array in {path}", Write(Replace(baseline, path, new JsonObject())));
            }
            if (path != "$") yield return new Body($"null in {path}", Write(Replace(baseline, path, null)));
        }
    }

    private static string Write(JsonNode? node)
    {
        var json = node?.ToJsonString() ?? "null";
        // Splice raw values: "\u0001raw:1e999" was serialized as a string with an escaped control character.
        var marker = JsonSerializer.Serialize(Raw)[1..^1];
        var start = json.IndexOf("\"" + marker, StringComparison.Ordinal);
        while (start >= 0)
        {
            var end = json.IndexOf('"', start + 1 + marker.Length);
            while (json[end - 1] == '\\') end = json.IndexOf('"', end + 1);
            var raw = JsonSerializer.Deserialize<string>(json[start..(end + 1)])![Raw.Length..];
            json = json[..start] + raw + json[(end + 1)..];
            start = json.IndexOf("\"" + marker, start + raw.Length, StringComparison.Ordinal);
        }
        return json;
    }

    private static IEnumerable<(string Path, JsonNode Node)> Leaves(JsonNode node, string path)
    {
        yield return (path, node);
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, child) in o)
                    if (child is not null)
                        foreach (var leaf in Leaves(child, $"{path}.{name}")) yield return leaf;
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                    if (a[i] is { } child)
                        foreach (var leaf in Leaves(child, $"{path}[{i}]")) yield return leaf;
                break;
        }
    }

    private static JsonNode? Replace(JsonNode baseline, string path, JsonNode? value)
    {
        var copy = baseline.DeepClone();
        if (path == "$") return value;
        JsonNode? parent = null;
        object? key = null;
        var current = copy;
        foreach (var step in Steps(path))
        {
            parent = current;
            key = step;
            current = step is int index ? current![index] : current![(string)step];
        }
        if (parent is JsonObject o) o[(string)key!] = value;
        else if (parent is JsonArray a) a[(int)key!] = value;
        return copy;
    }

    private static IEnumerable<object> Steps(string path)
    {
        var rest = path[1..];
        while (rest.Length > 0)
        {
            if (rest[0] == '.')
            {
                var end = rest.IndexOfAny(['.', '['], 1);
                if (end < 0) end = rest.Length;
                yield return rest[1..end];
                rest = rest[end..];
            }
            else
            {
                var end = rest.IndexOf(']');
                yield return int.Parse(rest[1..end], System.Globalization.CultureInfo.InvariantCulture);
                rest = rest[(end + 1)..];
            }
        }
    }

    /// <summary>A value of <paramref name="type"/> that a well-behaved client could send (not necessarily one the rules accept).</summary>
    private static JsonNode? Plausible(Type type, int depth)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return JsonValue.Create("x");
        if (type == typeof(bool)) return JsonValue.Create(false);
        if (type == typeof(Guid)) return JsonValue.Create(Guid.NewGuid());
        if (type == typeof(DateTimeOffset) || type == typeof(DateTime)) return JsonValue.Create(DateTimeOffset.UtcNow);
        if (type == typeof(TimeSpan)) return JsonValue.Create("00:01:00");
        if (type.IsEnum) return JsonValue.Create(JsonNamingPolicy.CamelCase.ConvertName(Enum.GetNames(type)[0]));
        if (type.IsPrimitive || type == typeof(decimal)) return JsonValue.Create(1);
        if (typeof(JsonNode).IsAssignableFrom(type) || type == typeof(JsonElement)) return type == typeof(JsonArray) ? new JsonArray("x")
            : new JsonObject { ["k"] = "v" };
        if (depth > 5) return null;
        if (type.IsArray) return new JsonArray(Plausible(type.GetElementType()!, depth + 1));
        if (typeof(IEnumerable).IsAssignableFrom(type) && type.IsGenericType)
        {
            var arguments = type.GetGenericArguments();
            return arguments.Length == 2
                ? new JsonObject { ["k"] = Plausible(arguments[1], depth + 1) }
                : new JsonArray(Plausible(arguments[0], depth + 1));
        }
        var result = new JsonObject();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetCustomAttribute<JsonIgnoreAttribute>() is not null) continue;
            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            result[name] = Plausible(property.PropertyType, depth + 1);
        }
        return result;
    }
}
