using Cogrion.Agent.Protocol;

namespace Cogrion.Kubernetes;

/// <summary>
/// A kind this client knows how to address: its group and version, its plural, and whether it lives in a namespace.
/// That is all KubernetesClient.Aot's generic operations need (see <see cref="KubernetesClient"/>).
/// </summary>
public sealed record ResourceKind(string ApiVersion, string Kind, string Plural, bool Namespaced)
{
    /// <summary>The API group ("" for the core group).</summary>
    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : "";

    /// <summary>The version within the group (v1, v2...).</summary>
    public string Version => ApiVersion[(ApiVersion.IndexOf('/') + 1)..];

    /// <summary>The collection's path: /api/v1/[namespaces/{ns}/]{plural} or /apis/{group}/{version}/[namespaces/{ns}/]{plural}.</summary>
    public string Path(string? @namespace) =>
        $"{(Group.Length == 0 ? "api" : "apis")}/{ApiVersion}/" +
        (Namespaced && @namespace is not null ? $"namespaces/{Uri.EscapeDataString(@namespace)}/" : "") + Plural;
}

/// <summary>
/// The kinds the agent may touch, and the few more its install consists of (Role). A fixed table
/// instead of API discovery: the agent needs a handful, discovery would cost a round of calls at
/// every start, and a kind not listed here is one the install's RBAC does not grant anyway. Another
/// caller of <see cref="KubernetesClient"/> that needs more kinds (the sandbox installing Flux's CRDs)
/// passes them to the client; they never enter this table.
/// </summary>
public static class ResourceKinds
{
    private static readonly ResourceKind[] Known =
    [
        new("v1", "Namespace", "namespaces", false),
        new("v1", "Node", "nodes", false),
        // Cluster-scoped: an app's volumes are set to Retain before its namespace goes, so its data is kept.
        new("v1", "PersistentVolume", "persistentvolumes", false),
        new("v1", "ConfigMap", "configmaps", true),
        new("v1", "Secret", "secrets", true),
        new("v1", "Service", "services", true),
        new("v1", "ServiceAccount", "serviceaccounts", true),
        new("v1", "PersistentVolumeClaim", "persistentvolumeclaims", true),
        new("v1", "ResourceQuota", "resourcequotas", true),
        new("v1", "LimitRange", "limitranges", true),
        new("v1", "Pod", "pods", true),
        // Events are read only (support sessions); the API's own components write them.
        new("v1", "Event", "events", true),
        new("apps/v1", "Deployment", "deployments", true),
        new("apps/v1", "StatefulSet", "statefulsets", true),
        new("batch/v1", "Job", "jobs", true),
        new("batch/v1", "CronJob", "cronjobs", true),
        new("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true),
        new("networking.k8s.io/v1", "Ingress", "ingresses", true),
        new("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
        new("rbac.authorization.k8s.io/v1", "Role", "roles", true),
        new("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true),
        // Flux's kinds for catalog apps: custom resources, addressed exactly like the built-in kinds.
        new("source.toolkit.fluxcd.io/v1", "HelmRepository", "helmrepositories", true),
        new("helm.toolkit.fluxcd.io/v2", "HelmRelease", "helmreleases", true),
        new("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false),
        new("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false),
    ];

    public static IReadOnlyList<ResourceKind> All => Known;

    public static ResourceKind Get(string apiVersion, string kind) =>
        Known.FirstOrDefault(k => k.ApiVersion == apiVersion && k.Kind == kind)
        ?? throw new KubernetesException(400,
            $"The agent does not manage {kind} ({apiVersion}). Supported: {string.Join(", ", Known.Select(k => k.Kind))}.");

    public static ResourceKind For(ObjectReference reference) => Get(reference.ApiVersion, reference.Kind);
}
