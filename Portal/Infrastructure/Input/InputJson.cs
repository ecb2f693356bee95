using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cogrion.Portal.Infrastructure.Input;

/// <summary>
/// The input rules applied to every JSON body the Portal binds (people's API calls and agents'
/// messages alike), set once on the serializer options of minimal APIs so that a new endpoint is
/// covered without doing anything:
/// <list type="bullet">
/// <item>every string, dictionary key and string inside free-form JSON (<see cref="JsonNode"/>,
/// <see cref="JsonElement"/>) is storable (<see cref="InputText.StorableProblem"/>);</item>
/// <item>numbers are finite: 1e999 reads as infinity, which neither PostgreSQL's jsonb nor JSON can hold;</item>
/// <item>a member whose type is not nullable (<c>ClusterInventory Inventory</c>) is required and not
/// null, and a collection whose element type is not nullable (<c>IReadOnlyList&lt;NodePoolInput&gt;</c>)
/// holds no null. The C# nullability annotations are the contract: <c>string? Name</c> may be left out.</item>
/// </list>
/// A refusal is an <see cref="InputRejectedException"/>: the binder's bad request, answered 400 with the field.
/// </summary>
public static class InputJson
{
    public static void Apply(JsonSerializerOptions options)
    {
        options.Converters.Insert(0, new StorableStringConverter());
        options.Converters.Insert(0, new FiniteDoubleConverter());
        options.Converters.Insert(0, new FiniteSingleConverter());
        options.Converters.Insert(0, new StorableJsonContentConverterFactory());
        options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(RequireNonNullableMembers);
    }

    // ---- Members that may not be null ------------------------------------------------------------

    private sealed record MemberCheck(string Name, Func<object, object?> Get, bool Required, bool ElementsRequired);

    private static readonly ConcurrentDictionary<Type, MemberCheck[]> Checks = new();

    private static void RequireNonNullableMembers(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object) return;
        var checks = Checks.GetOrAdd(typeInfo.Type, _ => MemberChecks(typeInfo));
        if (checks.Length == 0) return;
        var previous = typeInfo.OnDeserialized;
        typeInfo.OnDeserialized = value =>
        {
            previous?.Invoke(value);
            foreach (var check in checks)
            {
                var member = check.Get(value);
                if (member is null)
                {
                    if (check.Required) throw new InputRejectedException("Required: it may be neither left out nor null.", check.Name);
                    continue;
                }
                if (check.ElementsRequired && FirstNullElement(member) is { } index)
                    throw new InputRejectedException("May not be null: give a value or leave the element out.", $"{check.Name}[{index}]");
            }
        };
    }

    private static MemberCheck[] MemberChecks(JsonTypeInfo typeInfo)
    {
        // NullabilityInfoContext is not thread-safe: one per type, and the result is cached.
        var nullability = new NullabilityInfoContext();
        var checks = new List<MemberCheck>();
        foreach (var property in typeInfo.Properties)
        {
            if (property.Get is null || property.PropertyType.IsValueType) continue;
            NullabilityInfo? info = property.AttributeProvider switch
            {
                PropertyInfo p => nullability.Create(p),
                FieldInfo f => nullability.Create(f),
                _ => null,
            };
            if (info is null) continue;
            var required = info.ReadState == NullabilityState.NotNull;
            var elementsRequired = ElementNullability(property.PropertyType, info) == NullabilityState.NotNull;
            if (required || elementsRequired) checks.Add(new MemberCheck(property.Name, property.Get, required, elementsRequired));
        }
        return [.. checks];
    }

    /// <summary>How a collection's elements are annotated (a dictionary's values); Unknown when it is no collection or they are value types.</summary>
    private static NullabilityState ElementNullability(Type type, NullabilityInfo info)
    {
        if (type == typeof(string) || typeof(JsonNode).IsAssignableFrom(type) || !typeof(IEnumerable).IsAssignableFrom(type)) return NullabilityState.Unknown;
        var arguments = info.GenericTypeArguments;
        var element = type.IsArray ? info.ElementType
            : arguments.Length == 1 ? arguments[0]
            : arguments.Length == 2 && IsDictionary(type) ? arguments[1] // the values
            : null;
        if (element is null || element.Type.IsValueType && Nullable.GetUnderlyingType(element.Type) is null) return NullabilityState.Unknown;
        return element.ReadState;
    }

    private static bool IsDictionary(Type type) =>
        typeof(IDictionary).IsAssignableFrom(type)
        || (type.IsInterface ? [type, .. type.GetInterfaces()] : type.GetInterfaces())
            .Any(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d && (d == typeof(IReadOnlyDictionary<,>) || d == typeof(IDictionary<,>)));

    private static string? FirstNullElement(object collection)
    {
        if (collection is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
                if (entry.Value is null) return Convert.ToString(entry.Key, CultureInfo.InvariantCulture);
            return null;
        }
        var index = 0;
        foreach (var element in (IEnumerable)collection)
        {
            if (element is null) return index.ToString(CultureInfo.InvariantCulture);
            // A read-only dictionary enumerates key/value pairs.
            if (element.GetType() is { IsGenericType: true } pair && pair.GetGenericTypeDefinition() == typeof(KeyValuePair<,>)
                && pair.GetProperty("Value")!.GetValue(element) is null)
                return Convert.ToString(pair.GetProperty("Key")!.GetValue(element), CultureInfo.InvariantCulture);
            index++;
        }
        return null;
    }

    // ---- Strings -----------------------------------------------------------------------------

    private static string Storable(string? value) =>
        InputText.StorableProblem(value) is { } problem ? throw new InputRejectedException(problem) : value!;

    /// <summary>Reads a string token; an escaped unpaired surrogate (\ud800) makes the reader throw, which is the same refusal.</summary>
    private static string ReadString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException) when (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
        {
            throw new InputRejectedException(InputText.UnpairedSurrogateMessage);
        }
    }

    private sealed class StorableStringConverter : JsonConverter<string>
    {
        public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String
                ? Storable(ReadString(ref reader))
                : throw new JsonException($"Expected a string, not {Describe(reader.TokenType)}.");

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

        public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Storable(ReadString(ref reader));

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "true or false",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => token.ToString().ToLowerInvariant(),
    };

    // ---- Numbers -----------------------------------------------------------------------------

    private const string NotFinite = "Must be a finite number within the range of a double.";

    private static double ReadFinite(ref Utf8JsonReader reader, JsonSerializerOptions options)
    {
        double value;
        if (reader.TokenType == JsonTokenType.Number) value = reader.GetDouble();
        else if (reader.TokenType == JsonTokenType.String && options.NumberHandling.HasFlag(JsonNumberHandling.AllowReadingFromString)
                 && double.TryParse(ReadString(ref reader), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)) value = parsed;
        else throw new JsonException($"Expected a number, not {Describe(reader.TokenType)}.");
        return double.IsFinite(value) ? value : throw new InputRejectedException(NotFinite);
    }

    private sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadFinite(ref reader, options);

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }

    private sealed class FiniteSingleConverter : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var value = (float)ReadFinite(ref reader, options);
            return float.IsFinite(value) ? value : throw new InputRejectedException("Must be a finite number within the range of a float.");
        }

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }

    // ---- Free-form JSON (an agent's command output, Kubernetes objects) ------------------------

    /// <summary>Free-form JSON is stored as jsonb, which refuses \u0000 too: its strings and names pass the same rule.</summary>
    private sealed class StorableJsonContentConverterFactory : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(JsonElement) || typeof(JsonNode).IsAssignableFrom(typeToConvert);

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            typeToConvert == typeof(JsonElement)
                ? new ElementConverter()
                : (JsonConverter)Activator.CreateInstance(typeof(NodeConverter<>).MakeGenericType(typeToConvert))!;
    }

    private static JsonElement ReadCheckedElement(ref Utf8JsonReader reader)
    {
        JsonElement element;
        try
        {
            element = JsonElement.ParseValue(ref reader);
        }
        catch (InvalidOperationException)
        {
            throw new InputRejectedException(InputText.UnpairedSurrogateMessage);
        }
        Check(element, "");
        return element;
    }

    private static void Check(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                CheckText(() => element.GetString(), path);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = property.Name;
                    CheckText(() => name, path);
                    Check(property.Value, path.Length == 0 ? name : $"{path}.{name}");
                }
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray()) Check(item, $"{path}[{index++}]");
                break;
        }
    }

    private static void CheckText(Func<string?> read, string path)
    {
        string? text;
        try
        {
            text = read();
        }
        catch (InvalidOperationException)
        {
            throw new InputRejectedException(InputText.UnpairedSurrogateMessage, path.Length == 0 ? null : path);
        }
        if (InputText.StorableProblem(text) is { } problem) throw new InputRejectedException(problem, path.Length == 0 ? null : path);
    }

    private sealed class ElementConverter : JsonConverter<JsonElement>
    {
        public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadCheckedElement(ref reader);

        public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) => value.WriteTo(writer);
    }

    private sealed class NodeConverter<TNode> : JsonConverter<TNode> where TNode : JsonNode
    {
        public override bool HandleNull => false;

        public override TNode? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var element = ReadCheckedElement(ref reader);
            var node = JsonNode.Parse(element.GetRawText(), new JsonNodeOptions { PropertyNameCaseInsensitive = options.PropertyNameCaseInsensitive });
            return node as TNode ?? throw new JsonException($"Expected {(typeof(TNode) == typeof(JsonArray) ? "an array" : typeof(TNode) == typeof(JsonObject) ? "an object" : "a value")}, not {element.ValueKind.ToString().ToLowerInvariant()}.");
        }

        public override void Write(Utf8JsonWriter writer, TNode value, JsonSerializerOptions options) => value.WriteTo(writer, options);
    }
}
