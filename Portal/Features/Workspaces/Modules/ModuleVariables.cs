using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Cogrion.Portal.Features.Workspaces.Modules;

/// <summary>
/// Exactly the variables the Portal writes for a workspace run of <c>terraform/aws</c> or
/// <c>terraform/alicloud</c>: both modules declare the same interface (docs/module-interface.md),
/// and Portal.Tests/Workspaces/Modules/ModuleContractTests.cs fails if this record and the modules drift
/// apart (a missing or extra variable, an incompatible type, a different sensitive flag).
/// The values are validated before a run by the workspace wizard; the modules validate them again.
/// </summary>
public sealed record ModuleVariables
{
    [ModuleVariable("tenant_id")]
    public required Guid TenantId { get; init; }

    [ModuleVariable("workspace_id")]
    public required Guid WorkspaceId { get; init; }

    /// <summary>DNS label, 1 to 32 characters, unique in the tenant.</summary>
    [ModuleVariable("workspace_name")]
    public required string WorkspaceName { get; init; }

    [ModuleVariable("region")]
    public required string Region { get; init; }

    /// <summary>Private IPv4 CIDR (RFC 1918), /16 to /20.</summary>
    [ModuleVariable("network_cidr")]
    public required string NetworkCidr { get; init; }

    /// <summary>major.minor, e.g. "1.31".</summary>
    [ModuleVariable("kubernetes_version")]
    public required string KubernetesVersion { get; init; }

    [ModuleVariable("node_pools")]
    public required IReadOnlyList<NodePool> NodePools { get; init; }

    /// <summary>AWS only; must be false on AliCloud.</summary>
    [ModuleVariable("use_karpenter")]
    public required bool UseKarpenter { get; init; }

    /// <summary>The optional database; null for none.</summary>
    [ModuleVariable("database")]
    public required DatabaseSpec? Database { get; init; }

    [ModuleVariable("deletion_protection")]
    public required bool DeletionProtection { get; init; }

    /// <summary>The provisioning runner's egress addresses, allowed to reach the Kubernetes API.</summary>
    [ModuleVariable("api_allowed_cidrs")]
    public required IReadOnlyList<string> ApiAllowedCidrs { get; init; }

    [ModuleVariable("agent_image")]
    public required string AgentImage { get; init; }

    /// <summary>The Portal's https base URL, as the agent should call it.</summary>
    [ModuleVariable("portal_url")]
    public required string PortalUrl { get; init; }

    /// <summary>The agent's one-time registration token.</summary>
    [ModuleVariable("agent_bootstrap_token", Sensitive = true)]
    public required SensitiveString AgentBootstrapToken { get; init; }

    /// <summary>Every variable this record writes, in declaration order.</summary>
    public static IReadOnlyList<ModuleVariableDescriptor> Declared { get; } = Describe();

    /// <summary>The names of the sensitive variables (for redaction of anything the runner echoes).</summary>
    public static IReadOnlySet<string> SensitiveNames { get; } = Declared.Where(v => v.Sensitive).Select(v => v.Name)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The non-sensitive variables as the body of a <c>*.auto.tfvars.json</c> file. Safe to store with
    /// the run and to show on the review step.
    /// </summary>
    public JsonObject ToPublicTfvars() => ToTfvars(sensitive: false);

    /// <summary>
    /// The sensitive variables only, for a separate <c>*.auto.tfvars.json</c> file that the runner
    /// writes with owner-only permissions and deletes when the run ends. Never store or log it.
    /// </summary>
    public JsonObject ToSensitiveTfvars() => ToTfvars(sensitive: true);

    private JsonObject ToTfvars(bool sensitive)
    {
        var tfvars = new JsonObject();
        foreach (var variable in Declared.Where(v => v.Sensitive == sensitive))
        {
            var value = variable.Property.GetValue(this);
            tfvars[variable.Name] = value switch
            {
                null => null,
                SensitiveString secret => JsonValue.Create(secret.Reveal()),
                _ => JsonSerializer.SerializeToNode(value, variable.Property.PropertyType, ModuleJson.Options),
            };
        }
        return tfvars;
    }

    private static ModuleVariableDescriptor[] Describe() =>
        typeof(ModuleVariables)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(property => (Property: property, Attribute: property.GetCustomAttribute<ModuleVariableAttribute>()))
            .Where(pair => pair.Attribute is not null)
            .Select(pair => new ModuleVariableDescriptor(pair.Attribute!.Name, pair.Property, pair.Attribute.Sensitive))
            .ToArray();
}

/// <summary>One module variable: its name, the property that holds it and whether it is sensitive.</summary>
public sealed record ModuleVariableDescriptor(string Name, PropertyInfo Property, bool Sensitive);

/// <summary>
/// A worker node pool. On AWS an EKS managed node group, on AliCloud an ACK node pool
/// (fixed-size when <see cref="MinSize"/> equals <see cref="MaxSize"/>, autoscaled otherwise).
/// </summary>
public sealed record NodePool(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("instance_type")] string InstanceType,
    [property: JsonPropertyName("min_size")] int MinSize,
    [property: JsonPropertyName("max_size")] int MaxSize);

/// <summary>
/// The optional database. <see cref="Engine"/>: <c>postgres</c> or <c>mysql</c> on AWS;
/// <c>postgres</c>, <c>mysql</c> or <c>polardb</c> on AliCloud. <see cref="StorageGb"/> is ignored by PolarDB.
/// </summary>
public sealed record DatabaseSpec(
    [property: JsonPropertyName("engine")] string Engine,
    [property: JsonPropertyName("instance_class")] string InstanceClass,
    [property: JsonPropertyName("storage_gb")] int StorageGb);

/// <summary>JSON settings shared by the module contract types.</summary>
internal static class ModuleJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.General)
    {
        WriteIndented = false,
    };
}
