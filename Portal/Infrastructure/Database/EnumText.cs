using System.Collections.Concurrent;
using System.Reflection;
using System.Text;

namespace Cogrion.Portal.Infrastructure.Database;

/// <summary>Overrides the stored spelling of one enum member (<c>[EnumText("alicloud")] AliCloud</c>).</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class EnumTextAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}

/// <summary>
/// The one spelling of an enum stored as text, shown in the API, or written to a log: the member's
/// name in snake_case (<c>AwaitingApproval</c> → <c>awaiting_approval</c>), unless
/// <see cref="EnumTextAttribute"/> says otherwise. Parsing accepts exactly those spellings.
/// Pass <c>value.ToDbText()</c> as a query parameter and read the column with
/// <see cref="Parse{TEnum}"/>: Dapper skips type handlers for enums both ways (it writes the number
/// and reads with <c>Enum.Parse</c>; DapperLib/Dapper#259), so a handler cannot do this for us.
/// </summary>
public static class EnumText
{
    private static readonly ConcurrentDictionary<Type, (Dictionary<long, string> ToText, Dictionary<string, object> FromText)> Maps = new();

    public static string ToDbText<TEnum>(this TEnum value) where TEnum : struct, Enum =>
        Map(typeof(TEnum)).ToText.TryGetValue(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture), out var text)
            ? text
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"{value} is not a {typeof(TEnum).Name}.");

    public static TEnum Parse<TEnum>(string text) where TEnum : struct, Enum =>
        TryParse<TEnum>(text, out var value) ? value : throw new FormatException($"'{text}' is not a {typeof(TEnum).Name}.");

    public static bool TryParse<TEnum>(string? text, out TEnum value) where TEnum : struct, Enum
    {
        if (text is not null && Map(typeof(TEnum)).FromText.TryGetValue(text, out var found))
        {
            value = (TEnum)found;
            return true;
        }
        value = default;
        return false;
    }

    private static (Dictionary<long, string> ToText, Dictionary<string, object> FromText) Map(Type type) => Maps.GetOrAdd(type, static t =>
    {
        var toText = new Dictionary<long, string>();
        var fromText = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var field in t.GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var text = field.GetCustomAttribute<EnumTextAttribute>()?.Text ?? SnakeCase(field.Name);
            var value = field.GetValue(null)!;
            toText[Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)] = text;
            fromText[text] = value;
        }
        return (toText, fromText);
    });

    private static string SnakeCase(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) text.Append('_');
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }
}
