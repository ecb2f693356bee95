using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Cogrion.Sandbox;

/// <summary>
/// YAML documents as JSON objects, the way OpenTofu's yamldecode() and the API server read them:
/// plain scalars that look like numbers, booleans or null are those; quoted scalars are strings.
/// </summary>
public static partial class YamlDocuments
{
    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
    private static partial Regex Number();

    public static JsonObject Parse(string document)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(document));
        if (stream.Documents.Count == 0 || Convert(stream.Documents[0].RootNode) is not JsonObject root)
            throw new FormatException("The YAML document is not a mapping.");
        return root;
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode mapping
            => new JsonObject(mapping.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", Convert(c.Value)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar when scalar.Style is YamlDotNet.Core.ScalarStyle.Plain => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => null,
    };

    private static JsonNode? Plain(string value) => value switch
    {
        "" or "~" or "null" => null,
        "true" => JsonValue.Create(true),
        "false" => JsonValue.Create(false),
        _ when Integer().IsMatch(value) && long.TryParse(value, CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
        _ when Number().IsMatch(value) => JsonValue.Create(double.Parse(value, CultureInfo.InvariantCulture)),
        _ => JsonValue.Create(value),
    };
}
