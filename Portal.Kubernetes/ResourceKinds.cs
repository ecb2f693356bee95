using System.Text.Json;
using Cogrion.Agent.Protocol;
using k8s;
using k8s.Models;

namespace Cogrion.Kubernetes;

/// <summary>How one kind is read and written through KubernetesClient.Aot's typed operations.</summary>
public sealed record KindOperations(
    Func<IKubernetes, V1Patch, string, string?, string, CancellationToken, Task<object>> Patch,
    Func<IKubernetes, string, string?, CancellationToken, Task<object>> Read,
    Func<IKubernetes, string?, string?, CancellationToken, Task<object>> List,
    Func<IKubernetes, string, string?, CancellationToken, Task> Delete);

/// <summary>A kind this client knows how to address: its plural, whether it lives in a namespace, and its typed operations.</summary>
public sealed record ResourceKind(string ApiVersion, string Kind, string Plural, bool Namespaced, KindOperations Operations)
{
    /// <summary>The API group ("" for the core group).</summary>
    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : "";

    /// <summary>The collection's path: /api/v1/[namespaces/{ns}/]{plural} or /apis/{group}/{version}/[namespaces/{ns}/]{plural}.</summary>
    public string Path(string? @namespace) =>
        $"{(Group.Length == 0 ? "api" : "apis")}/{ApiVersion}/" +
        (Namespaced && @namespace is not null ? $"namespaces/{Uri.EscapeDataString(@namespace)}/" : "") + Plural;
}

/// <summary>
/// The kinds the agent may touch, and the few more its install consists of (Role). A fixed table
/// instead of API discovery: the agent needs a handful, discovery would cost a round of calls at
/// every start, and a kind not listed here is one the install's RBAC does not grant anyway.
/// Generic apply of arbitrary kinds is not in KubernetesClient.Aot (no GenericClient), hence one row per kind.
/// </summary>
public static class ResourceKinds
{
    private const string Background = "Background";

    private static readonly ResourceKind[] Known =
    [
        new("v1", "Namespace", "namespaces", false, new(
            (c, body, name, _, manager, ct)
                => Boxed(c.CoreV1.PatchNamespaceAsync(body, name, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, _, ct) => Boxed(c.CoreV1.ReadNamespaceAsync(name, cancellationToken: ct)),
            (c, _, selector, ct) => Boxed(c.CoreV1.ListNamespaceAsync(labelSelector: selector, cancellationToken: ct)),
            (c, name, _, ct) => c.CoreV1.DeleteNamespaceAsync(name, propagationPolicy: Background, cancellationToken: ct))),
        new("v1", "Node", "nodes", false, new(
            (c, body, name, _, manager, ct)
                => Boxed(c.CoreV1.PatchNodeAsync(body, name, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, _, ct) => Boxed(c.CoreV1.ReadNodeAsync(name, cancellationToken: ct)),
            (c, _, selector, ct) => Boxed(c.CoreV1.ListNodeAsync(labelSelector: selector, cancellationToken: ct)),
            (c, name, _, ct) => c.CoreV1.DeleteNodeAsync(name, propagationPolicy: Background, cancellationToken: ct))),
        // Cluster-scoped: an app's volumes are set to Retain before its namespace goes, so its data is kept.
        new("v1", "PersistentVolume", "persistentvolumes", false, new(
            (c, body, name, _, manager, ct)
                => Boxed(c.CoreV1.PatchPersistentVolumeAsync(body, name, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, _, ct) => Boxed(c.CoreV1.ReadPersistentVolumeAsync(name, cancellationToken: ct)),
            (c, _, selector, ct) => Boxed(c.CoreV1.ListPersistentVolumeAsync(labelSelector: selector, cancellationToken: ct)),
            (c, name, _, ct) => c.CoreV1.DeletePersistentVolumeAsync(name, propagationPolicy: Background, cancellationToken: ct))),
        new("v1", "ConfigMap", "configmaps", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.CoreV1.PatchNamespacedConfigMapAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CoreV1.ReadNamespacedConfigMapAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CoreV1.ListConfigMapForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.CoreV1.DeleteNamespacedConfigMapAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("v1", "Secret", "secrets", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.CoreV1.PatchNamespacedSecretAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CoreV1.ReadNamespacedSecretAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.CoreV1.DeleteNamespacedSecretAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("v1", "Service", "services", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.CoreV1.PatchNamespacedServiceAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CoreV1.ReadNamespacedServiceAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CoreV1.ListServiceForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CoreV1.ListNamespacedServiceAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.CoreV1.DeleteNamespacedServiceAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("v1", "ServiceAccount", "serviceaccounts", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.CoreV1.PatchNamespacedServiceAccountAsync(body, name, ns!, fieldManager: manager, force: Force(body),
                cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CoreV1.ReadNamespacedServiceAccountAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CoreV1.ListServiceAccountForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CoreV1.ListNamespacedServiceAccountAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.CoreV1.DeleteNamespacedServiceAccountAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(body, name, ns!, fieldManager: manager, force: Force(body),
                cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CoreV1.ListPersistentVolumeClaimForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CoreV1.ListNamespacedPersistentVolumeClaimAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct)
                => c.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("v1", "ResourceQuota", "resourcequotas", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.CoreV1.PatchNamespacedResourceQuotaAsync(body, name, ns!, fieldManager: manager, force: Force(body),
                cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CoreV1.ReadNamespacedResourceQuotaAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CoreV1.ListResourceQuotaForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CoreV1.ListNamespacedResourceQuotaAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.CoreV1.DeleteNamespacedResourceQuotaAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("v1", "LimitRange", "limitranges", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.CoreV1.PatchNamespacedLimitRangeAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CoreV1.ReadNamespacedLimitRangeAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CoreV1.ListLimitRangeForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CoreV1.ListNamespacedLimitRangeAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.CoreV1.DeleteNamespacedLimitRangeAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("v1", "Pod", "pods", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.CoreV1.PatchNamespacedPodAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CoreV1.ReadNamespacedPodAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CoreV1.ListPodForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.CoreV1.DeleteNamespacedPodAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        // Events are read only (support sessions); the API's own components write them.
        new("v1", "Event", "events", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.CoreV1.PatchNamespacedEventAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CoreV1.ReadNamespacedEventAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CoreV1.ListEventForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CoreV1.ListNamespacedEventAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.CoreV1.DeleteNamespacedEventAsync(name, ns!, cancellationToken: ct))),
        new("apps/v1", "Deployment", "deployments", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.AppsV1.PatchNamespacedDeploymentAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.AppsV1.ReadNamespacedDeploymentAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.AppsV1.ListDeploymentForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.AppsV1.DeleteNamespacedDeploymentAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("apps/v1", "StatefulSet", "statefulsets", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.AppsV1.PatchNamespacedStatefulSetAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.AppsV1.ReadNamespacedStatefulSetAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.AppsV1.ListStatefulSetForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.AppsV1.ListNamespacedStatefulSetAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.AppsV1.DeleteNamespacedStatefulSetAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("batch/v1", "Job", "jobs", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.BatchV1.PatchNamespacedJobAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.BatchV1.ReadNamespacedJobAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.BatchV1.ListJobForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.BatchV1.ListNamespacedJobAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.BatchV1.DeleteNamespacedJobAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("batch/v1", "CronJob", "cronjobs", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.BatchV1.PatchNamespacedCronJobAsync(body, name, ns!, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.BatchV1.ReadNamespacedCronJobAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.BatchV1.ListCronJobForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.BatchV1.ListNamespacedCronJobAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.BatchV1.DeleteNamespacedCronJobAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.NetworkingV1.PatchNamespacedNetworkPolicyAsync(body, name, ns!, fieldManager: manager, force: Force(body),
                cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.NetworkingV1.ReadNamespacedNetworkPolicyAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.NetworkingV1.ListNetworkPolicyForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.NetworkingV1.ListNamespacedNetworkPolicyAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.NetworkingV1.DeleteNamespacedNetworkPolicyAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("networking.k8s.io/v1", "Ingress", "ingresses", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.NetworkingV1.PatchNamespacedIngressAsync(body, name, ns!, fieldManager: manager, force: Force(body),
                cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.NetworkingV1.ReadNamespacedIngressAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.NetworkingV1.ListIngressForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.NetworkingV1.ListNamespacedIngressAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.NetworkingV1.DeleteNamespacedIngressAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.PolicyV1.PatchNamespacedPodDisruptionBudgetAsync(body, name, ns!, fieldManager: manager, force: Force(body),
                cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.PolicyV1.ListPodDisruptionBudgetForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.PolicyV1.ListNamespacedPodDisruptionBudgetAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct)
                => c.PolicyV1.DeleteNamespacedPodDisruptionBudgetAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("rbac.authorization.k8s.io/v1", "Role", "roles", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.RbacAuthorizationV1.PatchNamespacedRoleAsync(body, name, ns!, fieldManager: manager, force: Force(body),
                cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.RbacAuthorizationV1.ReadNamespacedRoleAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.RbacAuthorizationV1.ListRoleForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.RbacAuthorizationV1.ListNamespacedRoleAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.RbacAuthorizationV1.DeleteNamespacedRoleAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        new("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true, new(
            (c, body, name, ns, manager, ct)
                => Boxed(c.RbacAuthorizationV1.PatchNamespacedRoleBindingAsync(body, name, ns!, fieldManager: manager, force: Force(body),
                cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.RbacAuthorizationV1.ReadNamespacedRoleBindingAsync(name, ns!, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.RbacAuthorizationV1.ListRoleBindingForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct))
                : Boxed(c.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(ns, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct)
                => c.RbacAuthorizationV1.DeleteNamespacedRoleBindingAsync(name, ns!, propagationPolicy: Background, cancellationToken: ct))),
        // Flux's kinds for catalog apps: custom resources, through the custom-objects API (JSON in, JSON out).
        Custom("source.toolkit.fluxcd.io", "v1", "HelmRepository", "helmrepositories"),
        Custom("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases"),
        new("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false, new(
            (c, body, name, _, manager, ct)
                => Boxed(c.RbacAuthorizationV1.PatchClusterRoleAsync(body, name, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, _, ct) => Boxed(c.RbacAuthorizationV1.ReadClusterRoleAsync(name, cancellationToken: ct)),
            (c, _, selector, ct) => Boxed(c.RbacAuthorizationV1.ListClusterRoleAsync(labelSelector: selector, cancellationToken: ct)),
            (c, name, _, ct) => c.RbacAuthorizationV1.DeleteClusterRoleAsync(name, propagationPolicy: Background, cancellationToken: ct))),
        new("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false, new(
            (c, body, name, _, manager, ct)
                => Boxed(c.RbacAuthorizationV1.PatchClusterRoleBindingAsync(body, name, fieldManager: manager, force: Force(body),
                cancellationToken: ct)),
            (c, name, _, ct) => Boxed(c.RbacAuthorizationV1.ReadClusterRoleBindingAsync(name, cancellationToken: ct)),
            (c, _, selector, ct) => Boxed(c.RbacAuthorizationV1.ListClusterRoleBindingAsync(labelSelector: selector, cancellationToken: ct)),
            (c, name, _, ct) => c.RbacAuthorizationV1.DeleteClusterRoleBindingAsync(name, propagationPolicy: Background, cancellationToken: ct))),
    ];

    public static IReadOnlyList<ResourceKind> All => Known;

    public static ResourceKind Get(string apiVersion, string kind) =>
        Known.FirstOrDefault(k => k.ApiVersion == apiVersion && k.Kind == kind)
        ?? throw new KubernetesException(400,
            $"The agent does not manage {kind} ({apiVersion}). Supported: {string.Join(", ", Known.Select(k => k.Kind))}.");

    public static ResourceKind For(ObjectReference reference) => Get(reference.ApiVersion, reference.Kind);

    /// <summary>A namespaced custom resource, addressed by group, version and plural.</summary>
    private static ResourceKind Custom(string group, string version, string kind, string plural) =>
        new($"{group}/{version}", kind, plural, true, new(
            (c, body, name, ns, manager, ct) => Boxed(c.CustomObjects.PatchNamespacedCustomObjectAsync<JsonElement>(
                body, group, version, ns!, plural, name, fieldManager: manager, force: Force(body), cancellationToken: ct)),
            (c, name, ns, ct) => Boxed(c.CustomObjects.GetNamespacedCustomObjectAsync<JsonElement>(
                group, version, ns!, plural, name, cancellationToken: ct)),
            (c, ns, selector, ct) => ns is null
                ? Boxed(c.CustomObjects.ListClusterCustomObjectAsync<JsonElement>(
                    group, version, plural, labelSelector: selector, cancellationToken: ct))
                : Boxed(c.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(
                    group, version, ns, plural, labelSelector: selector, cancellationToken: ct)),
            (c, name, ns, ct) => c.CustomObjects.DeleteNamespacedCustomObjectAsync(
                group, version, ns!, plural, name, propagationPolicy: Background, cancellationToken: ct)));

    /// <summary>Kubernetes accepts force=true only with server-side apply.</summary>
    private static bool? Force(V1Patch body) => body.Type == V1Patch.PatchType.ApplyPatch ? true : null;

    private static async Task<object> Boxed<T>(Task<T> call) where T : notnull => await call;
}
