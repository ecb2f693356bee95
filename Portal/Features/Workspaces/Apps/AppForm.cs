using System.Globalization;
using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>What input a schema property becomes.</summary>
public enum AppFieldKind { Text, Integer, Number, Boolean, Choice, List, Group, Secret }

/// <summary>
/// One input (or one group of inputs) of an app's values form, made from one property of its values.schema.json.
/// Holds what the person typed as text, so a half-typed number is kept and reported rather than lost.
/// </summary>
public sealed class AppFormField
{
    public required string Path { get; init; }
    public required string Label { get; init; }
    public string? Description { get; init; }
    public required AppFieldKind Kind { get; init; }
    public IReadOnlyList<string> Choices { get; init; } = [];
    public string? Pattern { get; init; }
    public decimal? Minimum { get; init; }
    public decimal? Maximum { get; init; }

    /// <summary>The JSON type of a list's items: string, integer or number.</summary>
    public string ItemType { get; init; } = "string";

    public IReadOnlyList<AppFormField> Children { get; init; } = [];

    /// <summary>A secret field's Kubernetes Secret (in the app's namespace); null when the catalog does not list the field as a secret.</summary>
    public string? SecretName { get; init; }

    /// <summary>A secret whose Secret the release already reads: left empty, the value stays as it is.</summary>
    public bool SecretIsSet { get; set; }

    /// <summary>The value as typed (Text, Integer, Number, Choice; List: one item per line).</summary>
    public string Text { get; set; } = "";

    public bool Flag { get; set; }

    /// <summary>Whether the values the form was filled from set this option (else the chart's own default applies).</summary>
    public bool WasSet { get; set; }

    /// <summary>The field's error, from the server-side validation (or a number that does not parse).</summary>
    public string? Error { get; set; }

    /// <summary>The name the server's errors use: <c>values.&lt;dotted path&gt;</c>.</summary>
    public string Field => AppValues.Field(Path);

    public string InputId => "values-" + string.Concat(Path.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-'));

    /// <summary>What the field accepts, said in words next to it (bounds, pattern, list format).</summary>
    public string? Hint => Kind switch
    {
        AppFieldKind.Integer or AppFieldKind.Number when Minimum is not null && Maximum is not null => $"From {Minimum} to {Maximum}.",
        AppFieldKind.Integer or AppFieldKind.Number when Minimum is not null => $"At least {Minimum}.",
        AppFieldKind.Integer or AppFieldKind.Number when Maximum is not null => $"At most {Maximum}.",
        AppFieldKind.Text when Pattern is not null => $"Must match {Pattern}.",
        AppFieldKind.List => "One item per line.",
        AppFieldKind.Secret when SecretName is null => "A secret the catalog does not deliver: the chart generates or keeps its own.",
        AppFieldKind.Secret when SecretIsSet => $"Encrypted in this browser to the workspace's Cluster Agent (Secret {SecretName}). " +
            "Set: leave it empty to keep the value.",
        AppFieldKind.Secret => $"Encrypted in this browser to the workspace's Cluster Agent (Secret {SecretName}); the Portal never sees it. " +
            "Leave it empty and the chart generates its own.",
        _ => null,
    };
}

/// <summary>
/// An app's values form, generated from its values.schema.json: strings (with their pattern), integers and
/// numbers with their bounds, booleans, enums as a choice, nested objects as groups, arrays of simple items,
/// and secret (writeOnly) fields shown but never taken. The form does not judge values itself: it turns
/// what was typed into JSON, and the server-side validation the API uses (<see cref="WorkspaceApps.Check"/>)
/// says what is wrong, field by field, through <see cref="ShowErrors"/>.
/// </summary>
public sealed class AppForm
{
    private AppForm(IReadOnlyList<AppFormField> fields) => Fields = fields;

    public IReadOnlyList<AppFormField> Fields { get; }

    /// <summary>Errors that belong to no field of the form (the whole values object, the chart version).</summary>
    public List<string> GeneralErrors { get; } = [];

    /// <summary>Every field, groups included, depth first.</summary>
    public IEnumerable<AppFormField> AllFields => Flatten(Fields);

    /// <summary>The form for <paramref name="app"/>, filled with <paramref name="values"/> (the defaults, or an installed app's values).</summary>
    public static AppForm For(CatalogApp app, JsonObject values) =>
        new(FieldsOf(app, app.SchemaDocument, values, ""));

    /// <summary>
    /// The values the form holds, as the API takes them: every non-secret field that has a value. An empty text
    /// field is left out (the catalog's default, or the current value on an upgrade, stays). A number that does
    /// not parse is reported on its field and left out.
    /// </summary>
    public (JsonObject Values, FieldErrors Errors) ToValues()
    {
        var errors = new FieldErrors();
        return (ValuesOf(Fields, errors), errors);
    }

    /// <summary>Puts each error on its field; what matches no field goes to <see cref="GeneralErrors"/>.</summary>
    public void ShowErrors(FieldErrors errors)
    {
        GeneralErrors.Clear();
        var byField = AllFields.ToDictionary(f => f.Field, StringComparer.Ordinal);
        foreach (var field in byField.Values) field.Error = null;
        foreach (var (name, messages) in errors.ToDictionary())
        {
            var text = string.Join(" ", messages);
            if (byField.TryGetValue(name, out var field) && field.Kind != AppFieldKind.Group) field.Error = text;
            else GeneralErrors.Add(text);
        }
    }

    public bool HasErrors => GeneralErrors.Count > 0 || AllFields.Any(f => f.Error is not null);

    private static List<AppFormField> FieldsOf(CatalogApp app, JsonObject schema, JsonObject? values, string prefix)
    {
        var fields = new List<AppFormField>();
        if (schema["properties"] is not JsonObject properties) return fields;
        foreach (var (name, node) in properties)
        {
            if (node is not JsonObject property) continue;
            var path = prefix.Length == 0 ? name : $"{prefix}.{name}";
            var value = values?[name];
            var label = Str(property["title"]) ?? name;
            var description = Str(property["description"]);
            var type = Str(property["type"]);
            if (app.IsSecret(path) || property["writeOnly"] is JsonValue w && w.TryGetValue<bool>(out var writeOnly) && writeOnly)
            {
                fields.Add(new AppFormField
                {
                    Path = path,
                    Label = label,
                    Description = description,
                    Kind = AppFieldKind.Secret,
                    SecretName = app.SecretFields.FirstOrDefault(f => f.Path == path)?.SecretName,
                });
                continue;
            }
            if (type == "object")
            {
                fields.Add(new AppFormField
                {
                    Path = path,
                    Label = label,
                    Description = description,
                    Kind = AppFieldKind.Group,
                    Children = FieldsOf(app, property, value as JsonObject, path),
                });
                continue;
            }
            var field = property["enum"] is JsonArray choices
                ? new AppFormField
                {
                    Path = path,
                    Label = label,
                    Description = description,
                    Kind = AppFieldKind.Choice,
                    Choices = choices.Select(c => c?.ToString() ?? "").ToList(),
                }
                : type switch
                {
                    "boolean" => new AppFormField { Path = path, Label = label, Description = description, Kind = AppFieldKind.Boolean },
                    "integer" or "number" => new AppFormField
                    {
                        Path = path,
                        Label = label,
                        Description = description,
                        Kind = type == "integer" ? AppFieldKind.Integer : AppFieldKind.Number,
                        Minimum = Dec(property["minimum"]),
                        Maximum = Dec(property["maximum"]),
                    },
                    "array" => new AppFormField
                    {
                        Path = path,
                        Label = label,
                        Description = description,
                        Kind = AppFieldKind.List,
                        ItemType = Str((property["items"] as JsonObject)?["type"]) ?? "string",
                    },
                    _ => new AppFormField
                    {
                        Path = path,
                        Label = label,
                        Description = description,
                        Kind = AppFieldKind.Text,
                        Pattern = Str(property["pattern"]),
                    },
                };
            Fill(field, value);
            fields.Add(field);
        }
        return fields;
    }

    private static void Fill(AppFormField field, JsonNode? value)
    {
        field.WasSet = value is not null;
        switch (field.Kind)
        {
            case AppFieldKind.Boolean:
                field.Flag = value is JsonValue b && b.TryGetValue<bool>(out var flag) && flag;
                break;
            case AppFieldKind.List:
                field.Text = value is JsonArray items ? string.Join("\n", items.Select(Plain)) : "";
                break;
            default:
                field.Text = value is null ? "" : Plain(value);
                break;
        }
    }

    private static string Plain(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";

    private static JsonObject ValuesOf(IEnumerable<AppFormField> fields, FieldErrors errors)
    {
        var values = new JsonObject();
        foreach (var field in fields)
        {
            var key = field.Path[(field.Path.LastIndexOf('.') + 1)..];
            switch (field.Kind)
            {
                case AppFieldKind.Secret:
                    continue; // never taken: secret delivery is its own channel
                case AppFieldKind.Group:
                    var group = ValuesOf(field.Children, errors);
                    if (group.Count > 0) values[key] = group;
                    break;
                case AppFieldKind.Boolean:
                    // An unticked box the values never set stays unset: false could override a chart default of true.
                    if (field.WasSet || field.Flag) values[key] = field.Flag;
                    break;
                case AppFieldKind.List:
                    if (!field.WasSet && field.Text.Trim().Length == 0) continue;
                    var items = new JsonArray();
                    foreach (var line in field.Text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
                        items.Add(Item(field, field.ItemType, line, errors));
                    values[key] = items;
                    break;
                default:
                    if (field.Text.Trim().Length == 0) continue;
                    values[key] = field.Kind switch
                    {
                        AppFieldKind.Integer => Item(field, "integer", field.Text.Trim(), errors),
                        AppFieldKind.Number => Item(field, "number", field.Text.Trim(), errors),
                        _ => JsonValue.Create(field.Text),
                    };
                    break;
            }
        }
        return values;
    }

    /// <summary>A typed value; a number that does not parse stays text, so the schema check names its field too.</summary>
    private static JsonNode? Item(AppFormField field, string type, string text, FieldErrors errors)
    {
        if (type == "integer")
        {
            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)) return whole;
            errors.Add(field.Field, $"{field.Label}: '{text}' is not a whole number.");
            return text;
        }
        if (type == "number")
        {
            if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return number;
            errors.Add(field.Field, $"{field.Label}: '{text}' is not a number.");
            return text;
        }
        return text;
    }

    private static IEnumerable<AppFormField> Flatten(IEnumerable<AppFormField> fields)
    {
        foreach (var field in fields)
        {
            yield return field;
            foreach (var child in Flatten(field.Children)) yield return child;
        }
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static decimal? Dec(JsonNode? node) => node is JsonValue v && v.TryGetValue<decimal>(out var d) ? d : null;
}
