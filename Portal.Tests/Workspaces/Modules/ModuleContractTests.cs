using System.Reflection;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Cogrion.Portal.Features.Workspaces.Modules;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Workspaces.Modules;

/// <summary>
/// The contract between the Portal and the OpenTofu modules (issue 5, "Proof"): the variables the
/// Portal writes are exactly those terraform/aws and terraform/alicloud declare, with compatible
/// types and the same sensitive flags; both modules declare the same interface; every declaration is
/// documented. The modules are parsed with tools/hcl2json, so a syntax error fails here too.
/// </summary>
public sealed partial class ModuleContractTests
{
    public static TheoryData<string> CloudModules => new() { "aws", "alicloud" };

    public static TheoryData<string> AllModules => new() { "aws", "alicloud", "aws/bootstrap", "alicloud/bootstrap", "modules/cluster-agent" };

    [Theory]
    [MemberData(nameof(AllModules))]
    public async Task Every_module_parses_as_valid_HCL(string module)
    {
        var parsed = await OpenTofuModule.LoadAsync(module);

        Assert.NotEmpty(parsed.Variables);
    }

    [Theory]
    [MemberData(nameof(CloudModules))]
    public async Task The_variables_the_Portal_writes_are_exactly_those_the_module_declares(string module)
    {
        var declared = (await OpenTofuModule.LoadAsync(module)).Variables.Keys.ToHashSet();
        var written = ModuleVariables.Declared.Select(v => v.Name).ToHashSet();

        Assert.True(declared.SetEquals(written),
            $"terraform/{module} and ModuleVariables differ. Declared only by the module: [{string.Join(", ", declared.Except(written).Order())}]; " +
                $"written only by the Portal: [{string.Join(", ", written.Except(declared).Order())}].");
    }

    [Theory]
    [MemberData(nameof(CloudModules))]
    public async Task Every_variable_the_Portal_writes_has_the_type_the_module_declares(string module)
    {
        var declared = (await OpenTofuModule.LoadAsync(module)).Variables;

        var mismatches = ModuleVariables.Declared
            .Where(v => declared.ContainsKey(v.Name))
            .Select(v => (v.Name, Portal: HclTypeOf(v.Property.PropertyType), Module: declared[v.Name].Type))
            .Where(pair => pair.Portal != pair.Module)
            .Select(pair => $"{pair.Name}: the Portal writes {pair.Portal}, terraform/{module} declares {pair.Module ?? "no type"}")
            .ToList();

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Theory]
    [MemberData(nameof(CloudModules))]
    public async Task A_variable_is_nullable_in_the_module_exactly_when_the_Portal_may_write_null(string module)
    {
        var declared = (await OpenTofuModule.LoadAsync(module)).Variables;
        var nullability = new NullabilityInfoContext();

        var mismatches = ModuleVariables.Declared
            .Where(v => declared.ContainsKey(v.Name))
            .Where(v => (nullability.Create(v.Property).WriteState == NullabilityState.Nullable) != declared[v.Name].Nullable)
            .Select(v
                => $"{v.Name}: nullable in the Portal = {nullability.Create(v.Property).WriteState == NullabilityState.Nullable}, in " +
                $"terraform/{module} = {declared[v.Name].Nullable}")
            .ToList();

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Theory]
    [MemberData(nameof(CloudModules))]
    public async Task Sensitive_flags_agree_between_the_Portal_and_the_module(string module)
    {
        var declared = (await OpenTofuModule.LoadAsync(module)).Variables;

        var mismatches = ModuleVariables.Declared
            .Where(v => declared.ContainsKey(v.Name) && declared[v.Name].Sensitive != v.Sensitive)
            .Select(v => $"{v.Name}: sensitive in the Portal = {v.Sensitive}, in terraform/{module} = {declared[v.Name].Sensitive}")
            .ToList();

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Theory]
    [MemberData(nameof(CloudModules))]
    public async Task The_Portal_writes_every_variable_itself_rather_than_relying_on_module_defaults(string module)
    {
        var withDefaults = (await OpenTofuModule.LoadAsync(module)).Variables.Values.Where(v => v.HasDefault).Select(v => v.Name).ToList();

        Assert.True(withDefaults.Count == 0,
            $"terraform/{module} gives defaults to [{string.Join(", ", withDefaults)}]: the interface has none, so a run's inputs are exactly what " +
            $"the review step shows.");
    }

    [Theory]
    [MemberData(nameof(AllModules))]
    public async Task Every_module_variable_has_a_type_and_a_description(string module)
    {
        var incomplete = (await OpenTofuModule.LoadAsync(module)).Variables.Values
            .Where(v => string.IsNullOrWhiteSpace(v.Type) || string.IsNullOrWhiteSpace(v.Description))
            .Select(v => v.Name)
            .ToList();

        Assert.True(incomplete.Count == 0, $"terraform/{module}: variables without a type or a description: {string.Join(", ", incomplete)}");
    }

    [Theory]
    [MemberData(nameof(AllModules))]
    public async Task Every_module_output_has_a_description_and_none_is_sensitive(string module)
    {
        var outputs = (await OpenTofuModule.LoadAsync(module)).Outputs.Values;

        Assert.All(outputs, output
            => Assert.False(string.IsNullOrWhiteSpace(output.Description), $"terraform/{module}: output {output.Name} has no description."));
        Assert.All(outputs, output
            => Assert.False(output.Sensitive, $"terraform/{module}: output {output.Name} is sensitive; outputs must not carry secrets."));
    }

    [Fact]
    public async Task Both_cloud_modules_declare_the_same_variables_with_the_same_types()
    {
        var aws = (await OpenTofuModule.LoadAsync("aws")).Variables;
        var alicloud = (await OpenTofuModule.LoadAsync("alicloud")).Variables;

        Assert.Equal(aws.Keys.Order(), alicloud.Keys.Order());
        Assert.All(aws.Values, variable =>
        {
            var other = alicloud[variable.Name];
            Assert.True(variable.Type == other.Type, $"{variable.Name}: {variable.Type} on AWS, {other.Type} on AliCloud.");
            Assert.True(variable.Sensitive == other.Sensitive, $"{variable.Name}: sensitive differs between the modules.");
            Assert.True(variable.Nullable == other.Nullable, $"{variable.Name}: nullable differs between the modules.");
        });
    }

    [Fact]
    public async Task Both_cloud_modules_declare_the_same_outputs()
    {
        var aws = (await OpenTofuModule.LoadAsync("aws")).Outputs;
        var alicloud = (await OpenTofuModule.LoadAsync("alicloud")).Outputs;

        Assert.Equal(aws.Keys.Order(), alicloud.Keys.Order());
        Assert.All(aws.Values, output => Assert.Equal(output.Description, alicloud[output.Name].Description));
    }

    [Theory]
    [MemberData(nameof(CloudModules))]
    public async Task The_outputs_the_Portal_reads_are_exactly_those_the_module_declares(string module)
    {
        var declared = (await OpenTofuModule.LoadAsync(module)).Outputs.Keys.Order();

        Assert.Equal(declared, ModuleOutputs.Declared.Order());
    }

    [Fact]
    public async Task The_interface_document_lists_every_variable_and_output()
    {
        var aws = await OpenTofuModule.LoadAsync("aws");
        var document = InterfaceDocument.Read();

        Assert.Equal(aws.Variables.Keys.Order(), document.Variables.Keys.Order());
        Assert.Equal(aws.Outputs.Keys.Order(), document.Outputs.Order());
    }

    [Theory]
    [MemberData(nameof(CloudModules))]
    public async Task Every_variable_the_interface_document_says_is_validated_has_a_validation_block(string module)
    {
        var declared = (await OpenTofuModule.LoadAsync(module)).Variables;

        var unvalidated = InterfaceDocument.Read().Variables
            .Where(row => InterfaceDocument.RequiresValidation(row.Value, module))
            .Where(row => !declared.TryGetValue(row.Key, out var variable) || variable.Validations == 0)
            .Select(row => row.Key)
            .ToList();

        Assert.True(unvalidated.Count == 0,
            $"terraform/{module}: docs/module-interface.md requires validation of [{string.Join(", ", unvalidated)}] but the module has none.");
    }

    /// <summary>The HCL type constraint a C# property type serialises to (see ModuleVariables' JSON).</summary>
    private static string HclTypeOf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string) || type == typeof(Guid) || type == typeof(SensitiveString)) return "string";
        if (type == typeof(bool)) return "bool";
        if (type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(decimal)) return "number";
        if (type.IsGenericType && type.GetGenericTypeDefinition() is var generic
            && (generic == typeof(IReadOnlyList<>) || generic == typeof(List<>) || generic == typeof(IEnumerable<>)))
            return $"list({HclTypeOf(type.GetGenericArguments()[0])})";
        if (type.IsArray) return $"list({HclTypeOf(type.GetElementType()!)})";

        // A record serialises to an object with its JsonPropertyName attributes as attribute names.
        var attributes = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Name: p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name, p.PropertyType))
            .ToList();
        if (attributes.Count == 0 || attributes.Any(a => a.Name is null))
            throw new InvalidOperationException($"{type.Name}: every property of a module object type needs [JsonPropertyName] with its snake_case " +
                $"name.");
        return "object({"
            + string.Join(',', attributes.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a => $"{a.Name}={HclTypeOf(a.PropertyType)}")) + "})";
    }

    /// <summary>The variables and outputs tables of docs/module-interface.md.</summary>
    private sealed partial record InterfaceDocument(IReadOnlyDictionary<string, string> Variables, IReadOnlyList<string> Outputs)
    {
        // A table row whose first cell is a `name`: | `name` | ... |
        [GeneratedRegex(@"^\|\s*`(?<name>[a-z0-9_]+)`\s*\|(?<rest>.*)\|\s*$")]
        private static partial Regex Row();

        /// <summary>
        /// Whether a "Validation" cell asks for a validation block in <paramref name="module"/>. A cell
        /// may speak per cloud ("AWS: type only; AliCloud: must be false"); "type only" means none.
        /// </summary>
        public static bool RequiresValidation(string cell, string module)
        {
            var prefix = module == "aws" ? "AWS:" : "AliCloud:";
            var segments = cell.Split(';').Select(s => s.Trim()).ToList();
            var forModule = segments.FirstOrDefault(s => s.StartsWith(prefix, StringComparison.Ordinal));
            var text = forModule is null ? cell : forModule[prefix.Length..].Trim();
            return !text.Equals("type only", StringComparison.OrdinalIgnoreCase);
        }

        public static InterfaceDocument Read()
        {
            var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "module-interface.md"));
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            var outputs = new List<string>();
            string? section = null;
            foreach (var line in lines)
            {
                if (line.StartsWith("## ", StringComparison.Ordinal)) section = line[3..].Trim();
                var row = Row().Match(line);
                if (!row.Success) continue;
                var cells = row.Groups["rest"].Value.Split('|').Select(c => c.Trim()).ToArray();
                if (section == "Variables")
                    // Columns: name | type | meaning | validation | example; the validation cell says
                    // "type only" where the type is the whole check.
                    variables[row.Groups["name"].Value] = cells.Length >= 3 ? cells[2] : "";
                else if (section == "Outputs")
                    outputs.Add(row.Groups["name"].Value);
            }
            return new InterfaceDocument(variables, outputs);
        }
    }
}
