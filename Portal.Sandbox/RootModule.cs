using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// What the simulator reads from the working directory the Portal's runner prepared: the module call
/// and its inputs (main.tf.json), the state backend (backend.tf.json), the provider's assumed role
/// (providers.tf.json) and the secret inputs from a <c>-var-file</c>.
/// </summary>
public sealed class RootModule
{
    public required string Directory { get; init; }
    public required string ModuleSource { get; init; }
    public required JsonObject Variables { get; init; }
    public required IReadOnlyList<(string Name, bool Sensitive)> Outputs { get; init; }
    public required JsonObject? Backend { get; init; }
    public required JsonObject? Providers { get; init; }

    public string WorkspaceName => SandboxStack.Text(Variables, "workspace_name") ?? "sandbox";

    /// <summary>What simulated resource ids are derived from: stable per workspace, or per account and region for the bootstrap.</summary>
    public string IdSeed => IsBootstrap ? $"{AccountId}/{SandboxStack.Text(Variables, "region")}" : WorkspaceName;

    /// <summary>Whether the module called as "stack" is terraform/aws/bootstrap (rule: <see cref="BootstrapStack.Matches"/>).</summary>
    public bool IsBootstrap => BootstrapStack.Matches(Variables);

    /// <summary>The role the provider assumes: the simulated account and the bootstrap's failure marker come from it.</summary>
    public string RoleArn => Providers?["aws"]?["assume_role"]?["role_arn"] is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>() : "";

    public string RoleSessionName => Providers?["aws"]?["assume_role"]?["session_name"] is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>() : "";

    public string ExternalId => Providers?["aws"]?["assume_role"]?["external_id"] is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>() : "";

    /// <summary>The region the provider is configured for (what data.aws_region.current reports).</summary>
    public string? ProviderRegion => Providers?["aws"]?["region"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
        : null;

    /// <summary>
    /// The simulated AWS account behind the role, what data.aws_caller_identity.current would report:
    /// the account in the role ARN when it names a real-looking one, otherwise (sandbox accounts have no
    /// role ARN, or the placeholder 000000000000) 12 digits derived from the role ARN and the external
    /// ID, which is unique per cloud account. Deterministic, so every run in an account agrees.
    /// </summary>
    public string AccountId
    {
        get
        {
            var match = System.Text.RegularExpressions.Regex.Match(RoleArn, @"^arn:aws:iam::(\d{12}):");
            if (match.Success && match.Groups[1].Value != "000000000000") return match.Groups[1].Value;
            var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(RoleArn + "\n" + ExternalId));
            return (BitConverter.ToUInt64(hash, 0) % 1_000_000_000_000UL).ToString("D12", System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <param name="varFile">The -var-file of a plan; only plan evaluates the inputs, so only plan needs the secret ones.</param>
    public static RootModule Load(string directory, string? varFile, bool evaluateInputs = false)
    {
        var main = ReadObject(Path.Combine(directory, "main.tf.json"))
            ?? throw new SandboxError(Diagnostic.Error("No configuration files",
                "Plan requires configuration to be present. Planning without a configuration would mark everything for destruction, which is " +
                    "normally not what is desired."));
        var module = main["module"]?["stack"] as JsonObject
            ?? throw new SandboxError(Diagnostic.Error("Module \"stack\" is not declared",
                "The sandbox serves root modules that call the workspace module as module \"stack\".", file: "main.tf.json", line: 1));

        var variables = new JsonObject();
        var secrets = varFile is null ? [] : ReadObject(Path.Combine(directory, varFile))
            ?? throw new SandboxError(Diagnostic.Error("Failed to read variables file", $"Given variables file {varFile} does not exist."));
        foreach (var (name, value) in module)
        {
            if (name is "source" or "version" or "providers" or "depends_on") continue;
            // "${var.x}" passes a root variable through; anything else is a literal ("$${" escapes a "${").
            if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is var text
                && text.StartsWith("${var.", StringComparison.Ordinal) && text.EndsWith('}'))
            {
                var rootName = text[6..^1];
                if (secrets[rootName] is not { } secret)
                {
                    if (!evaluateInputs) continue;
                    throw new SandboxError(Diagnostic.Error("No value for required variable",
                        $"The root module input variable \"{rootName}\" is not set, and has no default value. Use a -var or -var-file command line " +
                            $"argument to provide a value for this variable.",
                        file: "main.tf.json", line: 3));
                }
                variables[name] = secret.DeepClone();
            }
            else variables[name] = Unescape(value);
        }

        var outputs = (main["output"] as JsonObject ?? [])
            .Select(o => (o.Key, o.Value?["sensitive"] is JsonValue s && s.GetValueKind() == JsonValueKind.True))
            .ToList();

        return new RootModule
        {
            Directory = directory,
            ModuleSource = module["source"]?.GetValue<string>() ?? "",
            Variables = variables,
            Outputs = outputs,
            Backend = ReadObject(Path.Combine(directory, "backend.tf.json"))?["terraform"]?["backend"] as JsonObject,
            Providers = ReadObject(Path.Combine(directory, "providers.tf.json"))?["provider"] as JsonObject,
        };
    }

    /// <summary>Where state lives. Only the local backend is served: the sandbox's "bucket" is a directory of the Portal's.</summary>
    public string StatePath()
    {
        if (Backend?["local"]?["path"] is JsonValue path) return Path.GetFullPath(path.GetValue<string>(), Directory);
        if (Backend is { Count: > 0 })
            throw new SandboxError(Diagnostic.Error($"Backend \"{Backend.First().Key}\" is not available in the sandbox",
                "The sandbox keeps state with the local backend in the Portal's sandbox state directory; a cloud bucket cannot be reached from it.",
                file: "backend.tf.json", line: 3));
        return Path.Combine(Directory, "terraform.tfstate");
    }

    /// <summary>
    /// The provider must assume a role with an external ID, as every real run does: a configuration
    /// with keys, or with no role, fails the way the AWS provider fails without credentials.
    /// </summary>
    public void RequireAssumedRole()
    {
        var role = Providers?["aws"]?["assume_role"];
        if (Providers?["aws"] is JsonObject aws && (aws.ContainsKey("access_key") || aws.ContainsKey("secret_key")))
            throw new SandboxError(Diagnostic.Error("Static credentials are not accepted",
                "The sandbox, like every Portal run, assumes the tenant's role: the provider configuration must not contain keys.",
                file: "providers.tf.json", line: 4));
        if (role?["role_arn"] is null || role["external_id"] is null)
            throw new SandboxError(Diagnostic.Error("No valid credential sources found",
                "Please see https://registry.terraform.io/providers/hashicorp/aws\nfor more information about providing credentials.\n\nError: " +
                    "failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, request canceled, context " +
                    "deadline exceeded",
                file: "providers.tf.json", line: 3, code: "  \"aws\": {", context: "provider \"aws\""));
    }

    private static JsonNode? Unescape(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Unescape(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Unescape).ToArray()),
        JsonValue value when value.GetValueKind() == JsonValueKind.String =>
            JsonValue.Create(value.GetValue<string>().Replace("$${", "${", StringComparison.Ordinal).Replace("%%{", "%{", StringComparison.Ordinal)),
        _ => node?.DeepClone(),
    };

    public static JsonObject? ReadObject(string path) =>
        File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;
}

/// <summary>A failure OpenTofu would report as an error diagnostic, exiting with 1.</summary>
public sealed class SandboxError(Diagnostic diagnostic) : Exception(diagnostic.Summary)
{
    public Diagnostic Diagnostic { get; } = diagnostic;
}
