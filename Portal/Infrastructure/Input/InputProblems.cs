using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cogrion.Portal.Infrastructure.Input;

/// <summary>
/// Says which field a refused request was about, from what the binder and the serializer report, in
/// the API's own field names (<c>name</c>, <c>nodePools[0].name</c>; <c>body</c> for the document as
/// a whole), with a message a caller can act on rather than a .NET type name.
/// </summary>
public static partial class InputProblems
{
    public const string BodyField = "body";

    /// <summary>The field and message of a JSON body the serializer or the input rules refused.</summary>
    public static (string Field, string Message) Describe(JsonException exception)
    {
        var path = (exception.Path ?? "$").TrimStart('$').TrimStart('.');
        var member = (exception as InputRejectedException)?.Member;
        var field = (path, member) switch
        {
            ("", null or "") => BodyField,
            (_, null or "") => path,
            ("", _) => member,
            _ => $"{path}.{member}",
        };
        return (field, MessageOf(exception, field));
    }

    private static string MessageOf(JsonException exception, string field)
    {
        if (exception is InputRejectedException) return exception.Message;
        // The reader refuses an escaped unpaired surrogate (\ud800) when it reads the string.
        if (exception.InnerException is InvalidOperationException { Message: var inner }
            && inner.Contains("surrogate", StringComparison.OrdinalIgnoreCase))
            return InputText.UnpairedSurrogateMessage;
        var message = exception.Message;
        // "The JSON value could not be converted to System.Int32. Path: ...": the caller needs the field, not our type.
        if (message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
            return "The value has the wrong type or format for this field.";
        var end = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (end < 0) end = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var text = end > 0 ? message[..end] : message;
        return field == BodyField && exception.LineNumber is { } line
            ? $"Not valid JSON: {text} (line {line + 1}, byte {exception.BytePositionInLine + 1})."
            : text;
    }

    /// <summary>The parameter a binder failure names ("Failed to bind parameter \"int? wait\" from \"abc\"" is about <c>wait</c>), or null.</summary>
    public static string? ParameterOf(string binderMessage) =>
        BinderParameter().Match(binderMessage) is { Success: true } match ? match.Groups["name"].Value : null;

    [GeneratedRegex("parameter \"(?:[^\"]*\\s)?(?<name>[A-Za-z_][A-Za-z0-9_]*)\"")]
    private static partial Regex BinderParameter();
}
