namespace Cogrion.Sandbox.Cluster.Store;

/// <summary>
/// A resource the simulated API server serves: where it lives in the URL space, whether it is namespaced, and whether it is a
/// custom resource (served only while its CustomResourceDefinition is stored, see <see cref="CustomResources"/>).
/// </summary>
public sealed record ResourceType(string Group, string Version, string Kind, string Plural, bool Namespaced, bool Custom = false)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>"deployments.apps", as Kubernetes names a resource in its messages ("secrets" for the core group).</summary>
    public string QualifiedPlural => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}

/// <summary>The resources of the simulated cluster: what the agent, its install and tenant apps use.</summary>
public static class ResourceTypes
{
    public static readonly ResourceType Namespace = new("", "v1", "Namespace", "namespaces", false);
    public static readonly ResourceType Node = new("", "v1", "Node", "nodes", false);
    public static readonly ResourceType Pod = new("", "v1", "Pod", "pods", true);
    public static readonly ResourceType Secret = new("", "v1", "Secret", "secrets", true);
    public static readonly ResourceType ConfigMap = new("", "v1", "ConfigMap", "configmaps", true);
    public static readonly ResourceType ServiceAccount = new("", "v1", "ServiceAccount", "serviceaccounts", true);
    public static readonly ResourceType Deployment = new("apps", "v1", "Deployment", "deployments", true);
    public static readonly ResourceType PersistentVolumeClaim = new("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true);
    public static readonly ResourceType PersistentVolume = new("", "v1", "PersistentVolume", "persistentvolumes", false);
    public static readonly ResourceType Role = new("rbac.authorization.k8s.io", "v1", "Role", "roles", true);
    public static readonly ResourceType RoleBinding = new("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true);
    public static readonly ResourceType ClusterRole = new("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false);
    public static readonly ResourceType ClusterRoleBinding = new("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
        false);
    public static readonly ResourceType CustomResourceDefinition = new("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
        "customresourcedefinitions", false);

    public static readonly IReadOnlyList<ResourceType> All =
    [
        Namespace, Node, Pod, Secret, ConfigMap, ServiceAccount,
        new("", "v1", "Service", "services", true),
        PersistentVolumeClaim, PersistentVolume,
        new("", "v1", "ResourceQuota", "resourcequotas", true),
        new("", "v1", "LimitRange", "limitranges", true),
        new("", "v1", "Event", "events", true),
        Deployment,
        new("apps", "v1", "StatefulSet", "statefulsets", true),
        new("apps", "v1", "ReplicaSet", "replicasets", true),
        new("batch", "v1", "Job", "jobs", true),
        new("batch", "v1", "CronJob", "cronjobs", true),
        new("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true),
        new("networking.k8s.io", "v1", "Ingress", "ingresses", true),
        new("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
        new("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true),
        Role, RoleBinding, ClusterRole, ClusterRoleBinding,
        // CRDs are stored as objects (Flux's install brings its own); their schemas are not enforced.
        CustomResourceDefinition,
        // Flux's kinds: served only while their CRDs (which the workspace's Flux install brings) are stored, as a real API server
        // serves a custom kind only once its CRD is established. A CRD of a kind not listed here is stored but serves nothing.
        new("source.toolkit.fluxcd.io", "v1", "HelmRepository", "helmrepositories", true, Custom: true),
        new("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases", true, Custom: true),
    ];

    public static ResourceType? ByPath(string group, string version, string plural) =>
        All.FirstOrDefault(t => t.Group == group && t.Version == version && t.Plural == plural);

    public static ResourceType? ByKind(string apiVersion, string kind) =>
        All.FirstOrDefault(t => t.ApiVersion == apiVersion && t.Kind == kind);
}
