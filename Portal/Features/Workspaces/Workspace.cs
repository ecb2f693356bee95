using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Features.Workspaces;

public enum WorkspaceStatus { Pending, Provisioning, AwaitingApproval, Ready, Failed, Updating, Destroying, Destroyed, Drifted }

public enum ApprovalMode { Automatic, Manual }

public sealed record NodePoolInput(string Name, string InstanceType, int MinSize, int MaxSize);

public sealed record DatabaseInput(string Engine, string Size);

/// <summary>What a person asks for in the wizard or the API, before <see cref="WorkspaceRules"/> accepts it.</summary>
public sealed record NewWorkspace
{
    public Guid? CloudAccountId { get; init; }
    public string? Region { get; init; }
    public string? Name { get; init; }
    public string? NetworkCidr { get; init; }
    public string? KubernetesVersion { get; init; }
    public bool UseKarpenter { get; init; }
    public IReadOnlyList<NodePoolInput> NodePools { get; init; } = [];
    public DatabaseInput? Database { get; init; }
    public ApprovalMode ApprovalMode { get; init; } = ApprovalMode.Manual;
}

/// <summary>A workspace as stored. Its domain follows the Cozystack rule: <c>&lt;workspace&gt;.&lt;tenant domain&gt;</c>.</summary>
public sealed record Workspace(
    Guid Id,
    Guid TenantId,
    string Name,
    Guid CloudAccountId,
    CloudProvider Provider,
    string Region,
    string NetworkCidr,
    string KubernetesVersion,
    IReadOnlyList<NodePoolInput> NodePools,
    bool UseKarpenter,
    DatabaseInput? Database,
    ApprovalMode ApprovalMode,
    WorkspaceStatus Status,
    string? StatusReason,
    IReadOnlyDictionary<string, string>? Outputs,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public string DomainIn(string tenantDomain) => $"{Name}.{tenantDomain}";
}

public static class WorkspaceStatusText
{
    /// <summary>For people: "awaiting approval".</summary>
    public static string ToText(this WorkspaceStatus status) => status.ToDbText().Replace('_', ' ');
}
