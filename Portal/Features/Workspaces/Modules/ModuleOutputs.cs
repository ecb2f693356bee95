using System.Reflection;
using System.Text.Json;

namespace Cogrion.Portal.Features.Workspaces.Modules;

/// <summary>
/// The outputs the Portal reads after an apply, from <c>tofu output -json</c>. Both modules declare
/// the same outputs (docs/module-interface.md); none of them is secret, and the contract test checks
/// that this record names exactly the outputs the modules declare.
/// </summary>
public sealed record ModuleOutputs
{
    [ModuleOutput("cluster_id")]
    public required string ClusterId { get; init; }

    [ModuleOutput("cluster_name")]
    public required string ClusterName { get; init; }

    [ModuleOutput("cluster_endpoint")]
    public required string ClusterEndpoint { get; init; }

    [ModuleOutput("kubernetes_version")]
    public required string KubernetesVersion { get; init; }

    [ModuleOutput("vpc_id")]
    public required string VpcId { get; init; }

    [ModuleOutput("private_subnet_ids")]
    public required IReadOnlyList<string> PrivateSubnetIds { get; init; }

    [ModuleOutput("public_subnet_ids")]
    public required IReadOnlyList<string> PublicSubnetIds { get; init; }

    [ModuleOutput("nat_public_ips")]
    public required IReadOnlyList<string> NatPublicIps { get; init; }

    [ModuleOutput("oidc_provider_arn")]
    public required string OidcProviderArn { get; init; }

    [ModuleOutput("agent_namespace")]
    public required string AgentNamespace { get; init; }

    [ModuleOutput("agent_role_arn")]
    public required string AgentRoleArn { get; init; }

    [ModuleOutput("database_endpoint")]
    public required string? DatabaseEndpoint { get; init; }

    [ModuleOutput("database_port")]
    public required int? DatabasePort { get; init; }

    [ModuleOutput("database_master_secret_ref")]
    public required string? DatabaseMasterSecretRef { get; init; }

    /// <summary>Every output this record reads, in declaration order.</summary>
    public static IReadOnlyList<string> Declared { get; } =
        typeof(ModuleOutputs)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(property => property.GetCustomAttribute<ModuleOutputAttribute>()?.Name)
            .OfType<string>()
            .ToArray();

    /// <summary>
    /// Reads the document <c>tofu output -json</c> prints: an object of
    /// <c>{ "name": { "sensitive": bool, "type": ..., "value": ... } }</c>.
    /// An output marked sensitive is refused without reading its value: the modules must never
    /// output a secret, and the Portal must never store one by accident.
    /// </summary>
    /// <exception cref="InvalidDataException">An output is missing, sensitive, or of the wrong shape.</exception>
    public static ModuleOutputs Parse(JsonElement document)
    {
        if (document.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("tofu output -json did not print an object.");

        JsonElement Value(string name, bool nullable)
        {
            if (!document.TryGetProperty(name, out var output) || output.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"The module output '{name}' is missing.");
            if (output.TryGetProperty("sensitive", out var sensitive) && sensitive.ValueKind == JsonValueKind.True)
                throw new InvalidDataException($"The module output '{name}' is marked sensitive; module outputs must not carry secrets, so its " +
                    $"value was not read.");
            if (!output.TryGetProperty("value", out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (nullable) return default;
                throw new InvalidDataException($"The module output '{name}' has no value.");
            }
            return value;
        }

        string Text(string name) => Value(name, nullable: false) is { ValueKind: JsonValueKind.String } value
            ? value.GetString()!
            : throw new InvalidDataException($"The module output '{name}' is not a string.");

        string? OptionalText(string name) => Value(name, nullable: true) switch
        {
            { ValueKind: JsonValueKind.Undefined } => null,
            { ValueKind: JsonValueKind.String } value => value.GetString(),
            _ => throw new InvalidDataException($"The module output '{name}' is not a string."),
        };

        int? OptionalNumber(string name) => Value(name, nullable: true) switch
        {
            { ValueKind: JsonValueKind.Undefined } => null,
            { ValueKind: JsonValueKind.Number } value when value.TryGetInt32(out var number) => number,
            _ => throw new InvalidDataException($"The module output '{name}' is not a whole number."),
        };

        IReadOnlyList<string> Texts(string name)
        {
            var value = Value(name, nullable: false);
            if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(item => item.ValueKind != JsonValueKind.String))
                throw new InvalidDataException($"The module output '{name}' is not a list of strings.");
            return value.EnumerateArray().Select(item => item.GetString()!).ToArray();
        }

        return new ModuleOutputs
        {
            ClusterId = Text("cluster_id"),
            ClusterName = Text("cluster_name"),
            ClusterEndpoint = Text("cluster_endpoint"),
            KubernetesVersion = Text("kubernetes_version"),
            VpcId = Text("vpc_id"),
            PrivateSubnetIds = Texts("private_subnet_ids"),
            PublicSubnetIds = Texts("public_subnet_ids"),
            NatPublicIps = Texts("nat_public_ips"),
            OidcProviderArn = Text("oidc_provider_arn"),
            AgentNamespace = Text("agent_namespace"),
            AgentRoleArn = Text("agent_role_arn"),
            DatabaseEndpoint = OptionalText("database_endpoint"),
            DatabasePort = OptionalNumber("database_port"),
            DatabaseMasterSecretRef = OptionalText("database_master_secret_ref"),
        };
    }
}
