using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Kubernetes;

/// <summary>A kind the agent knows how to address: its plural and whether it lives in a namespace.</summary>
public sealed record ResourceKind(string ApiVersion, string Kind, string Plural, bool Namespaced)
{
    /// <summary>/api/v1 for the core group, /apis/{group}/{version} for the others.</summary>
    public string GroupPath => ApiVersion.Contains('/') ? "/apis/" + ApiVersion : "/api/" + ApiVersion;

    public string CollectionPath(string? @namespace) =>
        Namespaced && !string.IsNullOrEmpty(@namespace)
            ? $"{GroupPath}/namespaces/{Uri.EscapeDataString(@namespace)}/{Plural}"
            : $"{GroupPath}/{Plural}";

    public string ObjectPath(string name, string? @namespace) => $"{CollectionPath(@namespace)}/{Uri.EscapeDataString(name)}";
}

/// <summary>
/// The kinds the agent may touch. A fixed table instead of API discovery: the agent needs a
/// handful, discovery would cost a round of calls at every start, and a kind not listed here is
/// one the install manifest's RBAC does not grant anyway.
/// </summary>
public static class ResourceKinds
{
    private static readonly ResourceKind[] Known =
    [
        new("v1", "Namespace", "namespaces", false),
        new("v1", "Node", "nodes", false),
        new("v1", "ConfigMap", "configmaps", true),
        new("v1", "Secret", "secrets", true),
        new("v1", "Service", "services", true),
        new("v1", "ServiceAccount", "serviceaccounts", true),
        new("v1", "PersistentVolumeClaim", "persistentvolumeclaims", true),
        new("v1", "ResourceQuota", "resourcequotas", true),
        new("v1", "LimitRange", "limitranges", true),
        new("v1", "Pod", "pods", true),
        new("apps/v1", "Deployment", "deployments", true),
        new("apps/v1", "StatefulSet", "statefulsets", true),
        new("batch/v1", "Job", "jobs", true),
        new("batch/v1", "CronJob", "cronjobs", true),
        new("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true),
        new("networking.k8s.io/v1", "Ingress", "ingresses", true),
        new("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
        new("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true),
        new("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false),
        new("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false),
    ];

    public static ResourceKind Get(string apiVersion, string kind) =>
        Known.FirstOrDefault(k => k.ApiVersion == apiVersion && k.Kind == kind)
        ?? throw new KubernetesException(400, $"The agent does not manage {kind} ({apiVersion}). Supported: {string.Join(", ", Known.Select(k => k.Kind))}.");

    public static ResourceKind For(ObjectReference reference) => Get(reference.ApiVersion, reference.Kind);
}
