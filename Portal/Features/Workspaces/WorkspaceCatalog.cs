using Cogrion.Portal.Features.CloudAccounts;

namespace Cogrion.Portal.Features.Workspaces;

public sealed record DatabaseSize(string Key, string Label, string InstanceClass, int StorageGb);

/// <summary>
/// The curated choices the wizard offers and <see cref="WorkspaceRules"/> accepts, per provider. Short
/// known lists: a typo in an instance type would otherwise fail twenty minutes into an apply.
/// The sandbox simulates the AWS stack, so it offers AWS-shaped instance types. Kubernetes versions come
/// from the providers' calendars instead (<see cref="KubernetesVersions.KubernetesVersionPolicy"/>): they change with the date.
/// </summary>
public static class WorkspaceCatalog
{
    public static IReadOnlyList<string> InstanceTypes(CloudProvider provider) => provider switch
    {
        CloudProvider.AliCloud => ["ecs.g7.large", "ecs.g7.xlarge", "ecs.g7.2xlarge", "ecs.c7.xlarge", "ecs.r7.xlarge"],
        _ => ["m6i.large", "m6i.xlarge", "m6i.2xlarge", "c6i.xlarge", "r6i.xlarge"],
    };

    public static IReadOnlyList<string> DatabaseEngines(CloudProvider provider) => provider switch
    {
        CloudProvider.Aws => ["postgres", "mysql"],
        CloudProvider.AliCloud => ["postgres", "mysql", "polardb"],
        _ => ["postgres"],
    };

    public static IReadOnlyList<DatabaseSize> DatabaseSizes(CloudProvider provider) => provider switch
    {
        CloudProvider.AliCloud =>
        [
            new("small", "Small (2 vCPU, 4 GiB, 50 GB)", "pg.n2.medium.2c", 50),
            new("medium", "Medium (4 vCPU, 16 GiB, 200 GB)", "pg.x4.large.2c", 200),
            new("large", "Large (8 vCPU, 32 GiB, 500 GB)", "pg.x4.xlarge.2c", 500),
        ],
        _ =>
        [
            new("small", "Small (2 vCPU, 4 GiB, 50 GB)", "db.t4g.medium", 50),
            new("medium", "Medium (4 vCPU, 16 GiB, 200 GB)", "db.m6g.xlarge", 200),
            new("large", "Large (8 vCPU, 32 GiB, 500 GB)", "db.m6g.2xlarge", 500),
        ],
    };

    /// <summary>Karpenter is how EKS scales nodes on demand; ACK has no equivalent in the module.</summary>
    public static bool SupportsKarpenter(CloudProvider provider) => provider is CloudProvider.Aws;

    public const int MaxNodesPerPool = 100;
    public const int MaxNodePools = 5;
}
