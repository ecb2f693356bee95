using System.Collections.Concurrent;
using System.Text.Json;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Workspaces.Modules;

/// <summary>
/// The declarations of one OpenTofu module directory, read through tools/hcl2json (the HCL parser
/// OpenTofu uses, compiled to WebAssembly), so the tests need no tofu binary. Parsing fails on any
/// syntax error, which is the modules' syntax check.
/// </summary>
public sealed class OpenTofuModule
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<OpenTofuModule>>> Cache = new();

    public string Directory { get; }
    public IReadOnlyDictionary<string, HclVariable> Variables { get; }
    public IReadOnlyDictionary<string, HclOutput> Outputs { get; }

    /// <summary>The whole module as hcl2json gives it (blocks as lists, expressions as "${...}" strings).</summary>
    public JsonElement Document { get; }

    private OpenTofuModule(string directory, IReadOnlyDictionary<string, HclVariable> variables, IReadOnlyDictionary<string, HclOutput> outputs,
        JsonElement document)
    {
        Directory = directory;
        Document = document;
        Variables = variables;
        Outputs = outputs;
    }

    public static string Root => Path.Combine(RepoPaths.Root, "terraform");

    /// <summary>Parses terraform/<paramref name="relativeDirectory"/> once per test run.</summary>
    public static Task<OpenTofuModule> LoadAsync(string relativeDirectory) =>
        Cache.GetOrAdd(relativeDirectory, directory => new Lazy<Task<OpenTofuModule>>(() => ParseAsync(directory))).Value;

    private static async Task<OpenTofuModule> ParseAsync(string relativeDirectory)
    {
        var tool = Path.Combine(RepoPaths.Tools, "hcl2json");
        if (!System.IO.Directory.Exists(Path.Combine(tool, "node_modules", "@cdktf", "hcl2json")))
            throw new InvalidOperationException("The hcl2json tool's packages are not installed: run tools/test.sh, or 'npm ci' in tools/hcl2json.");

        var directory = Path.Combine(Root, relativeDirectory);
        var result = await ProcessRunner.RunAsync("node", [Path.Combine(tool, "hcl2json.mjs"), directory], workingDirectory: tool,
            timeout: TimeSpan.FromMinutes(1));
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"terraform/{relativeDirectory} is not valid HCL:\n{result.StandardError}");

        using var document = JsonDocument.Parse(result.StandardOutput);
        var root = document.RootElement;
        return new OpenTofuModule(relativeDirectory, ReadVariables(root), ReadOutputs(root), root.Clone());
    }

    private static Dictionary<string, HclVariable> ReadVariables(JsonElement root)
    {
        var variables = new Dictionary<string, HclVariable>(StringComparer.Ordinal);
        if (!root.TryGetProperty("variable", out var section)) return variables;
        foreach (var declaration in section.EnumerateObject())
        {
            // hcl2json gives each named block as a list; more than one entry means a duplicate name.
            if (declaration.Value.GetArrayLength() != 1)
                throw new InvalidOperationException($"variable \"{declaration.Name}\" is declared {declaration.Value.GetArrayLength()} times.");
            var body = declaration.Value[0];
            variables[declaration.Name] = new HclVariable(
                declaration.Name,
                body.TryGetProperty("type", out var type) ? HclType.Normalise(Unwrap(type.GetString())) : null,
                body.TryGetProperty("description", out var description) ? description.GetString() : null,
                body.TryGetProperty("sensitive", out var sensitive) && sensitive.ValueKind == JsonValueKind.True,
                !(body.TryGetProperty("nullable", out var nullable) && nullable.ValueKind == JsonValueKind.False),
                body.TryGetProperty("validation", out var validation) ? validation.GetArrayLength() : 0,
                body.TryGetProperty("default", out _));
        }
        return variables;
    }

    private static Dictionary<string, HclOutput> ReadOutputs(JsonElement root)
    {
        var outputs = new Dictionary<string, HclOutput>(StringComparer.Ordinal);
        if (!root.TryGetProperty("output", out var section)) return outputs;
        foreach (var declaration in section.EnumerateObject())
        {
            if (declaration.Value.GetArrayLength() != 1)
                throw new InvalidOperationException($"output \"{declaration.Name}\" is declared {declaration.Value.GetArrayLength()} times.");
            var body = declaration.Value[0];
            outputs[declaration.Name] = new HclOutput(
                declaration.Name,
                body.TryGetProperty("description", out var description) ? description.GetString() : null,
                body.TryGetProperty("sensitive", out var sensitive) && sensitive.ValueKind == JsonValueKind.True);
        }
        return outputs;
    }

    // hcl2json renders expressions as "${...}".
    private static string? Unwrap(string? expression) =>
        expression is not null && expression.StartsWith("${", StringComparison.Ordinal) && expression.EndsWith('}') ? expression[2..^1] : expression;
}

public sealed record HclVariable(string Name, string? Type, string? Description, bool Sensitive, bool Nullable, int Validations, bool HasDefault);

public sealed record HclOutput(string Name, string? Description, bool Sensitive);

/// <summary>
/// Type constraints in a canonical form, so two spellings of one type compare equal:
/// whitespace dropped, object attributes sorted, e.g. <c>list(object({max_size=number,name=string}))</c>.
/// </summary>
public static class HclType
{
    public static string Normalise(string? expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var reader = new Reader(expression);
        var type = reader.ReadType();
        reader.SkipSpace();
        if (!reader.AtEnd) throw new FormatException($"Unexpected text after the type in '{expression}'.");
        return type;
    }

    private sealed class Reader(string text)
    {
        private int position;

        public bool AtEnd => position >= text.Length;

        public void SkipSpace()
        {
            while (!AtEnd && (char.IsWhiteSpace(text[position]) || text[position] == ',')) position++;
        }

        private string Identifier()
        {
            SkipSpace();
            var start = position;
            while (!AtEnd && (char.IsLetterOrDigit(text[position]) || text[position] == '_' || text[position] == '-')) position++;
            if (start == position) throw new FormatException($"Expected a name at {position} in '{text}'.");
            return text[start..position];
        }

        private void Expect(char expected)
        {
            SkipSpace();
            if (AtEnd || text[position] != expected) throw new FormatException($"Expected '{expected}' at {position} in '{text}'.");
            position++;
        }

        private bool Peek(char expected)
        {
            SkipSpace();
            return !AtEnd && text[position] == expected;
        }

        public string ReadType()
        {
            var name = Identifier();
            switch (name)
            {
                case "string" or "number" or "bool" or "any":
                    return name;
                case "list" or "set" or "map" or "optional":
                    {
                        Expect('(');
                        var inner = ReadType();
                        // optional(type, default): the default does not change the type.
                        if (name == "optional" && !Peek(')')) SkipExpression();
                        Expect(')');
                        return $"{name}({inner})";
                    }
                case "object":
                    {
                        Expect('(');
                        Expect('{');
                        var attributes = new SortedDictionary<string, string>(StringComparer.Ordinal);
                        while (!Peek('}'))
                        {
                            var attribute = Identifier();
                            SkipSpace();
                            if (!AtEnd && (text[position] == '=' || text[position] == ':')) position++;
                            attributes[attribute] = ReadType();
                        }
                        Expect('}');
                        Expect(')');
                        return "object({" + string.Join(',', attributes.Select(a => $"{a.Key}={a.Value}")) + "})";
                    }
                case "tuple":
                    {
                        Expect('(');
                        Expect('[');
                        var elements = new List<string>();
                        while (!Peek(']')) elements.Add(ReadType());
                        Expect(']');
                        Expect(')');
                        return "tuple([" + string.Join(',', elements) + "])";
                    }
                default:
                    throw new FormatException($"Unknown type '{name}' in '{text}'.");
            }
        }

        private void SkipExpression()
        {
            var depth = 0;
            while (!AtEnd && !(depth == 0 && text[position] == ')'))
            {
                if (text[position] is '(' or '{' or '[') depth++;
                if (text[position] is ')' or '}' or ']') depth--;
                position++;
            }
        }
    }
}
