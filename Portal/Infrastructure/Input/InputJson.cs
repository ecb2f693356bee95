using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Cogrion.Portal.Infrastructure.Input;

/// <summary>
/// The input rules applied to every JSON body the Portal binds (people's API calls and agents'
/// messages alike), set once on the serializer options of minimal APIs so that a new endpoint is
/// covered without doing anything. After each object is read, its members are checked:
/// <list type="bullet">
/// <item>every string, dictionary key and string inside free-form JSON (<see cref="JsonNode"/>,
/// <see cref="JsonElement"/>) is storable (<see cref="InputText.StorableProblem"/>);</item>
/// <item>numbers are finite: 1e999 reads as infinity, which neither PostgreSQL's jsonb nor JSON can hold;</item>
/// <item>a member whose type is not nullable (<c>ClusterInventory Inventory</c>) is required and not
/// null, and a collection whose element type is not nullable (<c>IReadOnlyList&lt;NodePoolInput&gt;</c>)
/// holds no null. The C# nullability annotations are the contract: <c>string? Name</c> may be left out.</item>
/// </list>
/// Checked on the objects rather than with converters of our own, so the OpenAPI document still
/// describes a string as a string. A refusal is an <see cref="InputRejectedException"/>: the
/// binder's bad request, answered 400 with the field.
/// </summary>
public static class InputJson
{
    public static void Apply(JsonSerializerOptions options) =>
        options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(CheckMembersAfterReading);

    private sealed record MemberCheck(string Name, Func<object, object?> Get, bool Required, bool ElementsRequired);

    private static readonly ConcurrentDictionary<Type, MemberCheck[]> Checks = new();

    private static void CheckMembersAfterReading(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object) return;
        var checks = Checks.GetOrAdd(typeInfo.Type, _ => MemberChecks(typeInfo));
        if (checks.Length == 0) return;
        var previous = typeInfo.OnDeserialized;
        typeInfo.OnDeserialized = value =>
        {
            previous?.Invoke(value);
            foreach (var check in checks) Check(check.Get(value), check.Name, check.Required, check.ElementsRequired);
        };
    }

    private static MemberCheck[] MemberChecks(JsonTypeInfo typeInfo)
    {
        // NullabilityInfoContext is not thread-safe: one per type, and the result is cached.
        var nullability = new NullabilityInfoContext();
        var checks = new List<MemberCheck>();
        foreach (var property in typeInfo.Properties)
        {
            if (property.Get is null) continue;
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            NullabilityInfo? info = property.AttributeProvider switch
            {
                PropertyInfo p => nullability.Create(p),
                FieldInfo f => nullability.Create(f),
                _ => null,
            };
            var required = !property.PropertyType.IsValueType && info?.ReadState == NullabilityState.NotNull;
            var elementsRequired = info is not null && ElementNullability(type, info) == NullabilityState.NotNull;
            // Nested objects check themselves when they are read; here: what is not an object of ours.
            if (required || elementsRequired || HoldsValuesToCheck(type))
                checks.Add(new MemberCheck(property.Name, property.Get, required, elementsRequired));
        }
        return [.. checks];
    }

    private static bool HoldsValuesToCheck(Type type) =>
        type == typeof(string) || type == typeof(double) || type == typeof(float) || type == typeof(JsonElement)
        || typeof(JsonNode).IsAssignableFrom(type) || typeof(IEnumerable).IsAssignableFrom(type);

    /// <summary>How a collection's elements are annotated (a dictionary's values); Unknown when it is no collection or they are value
    /// types.</summary>
    private static NullabilityState ElementNullability(Type type, NullabilityInfo info)
    {
        if (type == typeof(string) || typeof(JsonNode).IsAssignableFrom(type) || !typeof(IEnumerable)
            .IsAssignableFrom(type)) return NullabilityState.Unknown;
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
            .Any(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d
                && (d == typeof(IReadOnlyDictionary<,>) || d == typeof(IDictionary<,>)));

    private static void Check(object? value, string member, bool required, bool elementsRequired)
    {
        switch (value)
        {
            case null:
                if (required) throw new InputRejectedException("Required: it may be neither left out nor null.", member);
                return;
            case string text:
                if (InputText.StorableProblem(text) is { } problem) throw new InputRejectedException(problem, member);
                return;
            case double number when !double.IsFinite(number):
            case float single when !float.IsFinite(single):
                throw new InputRejectedException("Must be a finite number within the range of a double.", member);
            case JsonElement element:
                CheckJson(element, member);
                return;
            case JsonNode node:
                CheckJson(JsonSerializer.SerializeToElement(node), member);
                return;
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    var key = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "";
                    Check(key, member, false, false);
                    if (entry.Value is null && elementsRequired) throw new InputRejectedException(NullElement, $"{member}.{key}");
                    Check(entry.Value, $"{member}.{key}", false, false);
                }
                return;
            case IEnumerable items:
                var index = 0;
                foreach (var item in items)
                {
                    var at = $"{member}[{index++}]";
                    if (item is null && elementsRequired) throw new InputRejectedException(NullElement, at);
                    // A read-only dictionary enumerates key/value pairs.
                    if (item?.GetType() is { IsGenericType: true } pair && pair.GetGenericTypeDefinition() == typeof(KeyValuePair<,>))
                    {
                        var key = Convert.ToString(pair.GetProperty("Key")!.GetValue(item), CultureInfo.InvariantCulture) ?? "";
                        var entryValue = pair.GetProperty("Value")!.GetValue(item);
                        Check(key, member, false, false);
                        if (entryValue is null && elementsRequired) throw new InputRejectedException(NullElement, $"{member}.{key}");
                        Check(entryValue, $"{member}.{key}", false, false);
                        continue;
                    }
                    Check(item, at, false, false);
                }
                return;
        }
    }

    private const string NullElement = "May not be null: give a value or leave the element out.";

    /// <summary>Free-form JSON is stored as jsonb, which refuses \u0000 too: its strings and names pass the same rule.</summary>
    private static void CheckJson(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                CheckText(element, path);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (InputText.StorableProblem(property.Name) is { } problem) throw new InputRejectedException(problem, path);
                    CheckJson(property.Value, $"{path}.{property.Name}");
                }
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray()) CheckJson(item, $"{path}[{index++}]");
                break;
        }
    }

    private static void CheckText(JsonElement element, string path)
    {
        string? text;
        try
        {
            text = element.GetString();
        }
        catch (InvalidOperationException)
        {
            throw new InputRejectedException(InputText.UnpairedSurrogateMessage, path);
        }
        if (InputText.StorableProblem(text) is { } problem) throw new InputRejectedException(problem, path);
    }
}
