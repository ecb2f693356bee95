using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Cogrion.Portal.Features.Agents.Enrollment;

namespace Cogrion.Portal.Features.Agents.Install;

/// <summary>
/// The manual install path: one kubectl manifest with the agent's namespace, service account,
/// least-privilege RBAC, the bootstrap token in a Secret, and the Deployment.
/// RBAC (docs/adr/0034): cluster-wide the agent may manage namespaces, read nodes and bind ONE
/// role (cogrion-agent-workload) inside the namespaces it creates; it holds no rights in any other
/// namespace, and in its own only its state Secret.
/// Written as text with JSON-quoted scalars (valid YAML) rather than serialised objects: the
/// document is reviewed by people before they apply it, so it should read like a hand-written one.
/// </summary>
public sealed class InstallManifest(IOptions<AgentApiOptions> options)
{
    public const string AgentNamespace = "cogrion-agent";

    public string Render(BootstrapToken token, string portalUrl)
    {
        var image = options.Value.AgentImage;
        var yaml = new StringBuilder();
        yaml.Append($$"""
            # Cogrion Cluster Agent for workspace {{token.WorkspaceId}}
            # Apply with: kubectl apply -f cogrion-agent.yaml
            # The bootstrap token below works once, until {{token.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm}} UTC. The agent registers
            # a key of its own with it and keeps that key in the Secret cogrion-agent-state.
            apiVersion: v1
            kind: Namespace
            metadata:
              name: {{AgentNamespace}}
              labels:
                app.kubernetes.io/name: cogrion-agent
                pod-security.kubernetes.io/enforce: restricted
            ---
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: cogrion-agent
              namespace: {{AgentNamespace}}
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              name: cogrion-agent-bootstrap
              namespace: {{AgentNamespace}}
            type: Opaque
            stringData:
              token: {{Q(token.Token)}}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: cogrion-agent
            rules:
              - apiGroups: [""]
                resources: ["namespaces"]
                verbs: ["get", "list", "create", "patch", "delete"]
              - apiGroups: [""]
                resources: ["nodes"]
                verbs: ["get", "list"]
              - apiGroups: ["rbac.authorization.k8s.io"]
                resources: ["rolebindings"]
                verbs: ["get", "create", "patch"]
              - apiGroups: ["rbac.authorization.k8s.io"]
                resources: ["clusterroles"]
                verbs: ["bind"]
                resourceNames: ["cogrion-agent-workload"]
              - apiGroups: ["rbac.authorization.k8s.io"]
                resources: ["clusterroles", "clusterrolebindings"]
                verbs: ["delete"]
                resourceNames: ["cogrion-agent", "cogrion-agent-workload"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: cogrion-agent
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: cogrion-agent
            subjects:
              - kind: ServiceAccount
                name: cogrion-agent
                namespace: {{AgentNamespace}}
            ---
            # Bound by the agent inside each tenant app namespace it creates, and nowhere else.
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: cogrion-agent-workload
            rules:
              - apiGroups: [""]
                resources: ["configmaps", "secrets", "services", "serviceaccounts", "persistentvolumeclaims", "resourcequotas", "limitranges"]
                verbs: ["get", "list", "create", "patch", "update", "delete"]
              - apiGroups: [""]
                resources: ["pods"]
                verbs: ["get", "list"]
              - apiGroups: ["apps"]
                resources: ["deployments", "statefulsets"]
                verbs: ["get", "list", "create", "patch", "update", "delete"]
              - apiGroups: ["batch"]
                resources: ["jobs", "cronjobs"]
                verbs: ["get", "list", "create", "patch", "update", "delete"]
              - apiGroups: ["networking.k8s.io"]
                resources: ["networkpolicies", "ingresses"]
                verbs: ["get", "list", "create", "patch", "update", "delete"]
              - apiGroups: ["policy"]
                resources: ["poddisruptionbudgets"]
                verbs: ["get", "list", "create", "patch", "update", "delete"]
            ---
            # In its own namespace the agent may only keep its state Secret.
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata:
              name: cogrion-agent-state
              namespace: {{AgentNamespace}}
            rules:
              - apiGroups: [""]
                resources: ["secrets"]
                verbs: ["create"]
              - apiGroups: [""]
                resources: ["secrets"]
                verbs: ["get", "patch", "delete"]
                resourceNames: ["cogrion-agent-state"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: cogrion-agent-state
              namespace: {{AgentNamespace}}
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: Role
              name: cogrion-agent-state
            subjects:
              - kind: ServiceAccount
                name: cogrion-agent
                namespace: {{AgentNamespace}}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: cogrion-agent
              namespace: {{AgentNamespace}}
              labels:
                app.kubernetes.io/name: cogrion-agent
            spec:
              replicas: 1
              # Never two agents with one identity at once.
              strategy:
                type: Recreate
              selector:
                matchLabels:
                  app.kubernetes.io/name: cogrion-agent
              template:
                metadata:
                  labels:
                    app.kubernetes.io/name: cogrion-agent
                spec:
                  serviceAccountName: cogrion-agent
                  automountServiceAccountToken: true
                  securityContext:
                    runAsNonRoot: true
                    runAsUser: 65532
                    seccompProfile:
                      type: RuntimeDefault
                  containers:
                    - name: agent
                      image: {{Q(image)}}
                      env:
                        - name: Agent__PortalUrl
                          value: {{Q(portalUrl)}}
                        - name: Agent__Cluster
                          value: "InCluster"
                        - name: Agent__StateSecretNamespace
                          value: {{Q(AgentNamespace)}}
                        - name: Agent__BootstrapToken
                          valueFrom:
                            secretKeyRef:
                              name: cogrion-agent-bootstrap
                              key: token
                      resources:
                        requests:
                          cpu: "10m"
                          memory: "32Mi"
                        limits:
                          memory: "96Mi"
                      securityContext:
                        allowPrivilegeEscalation: false
                        readOnlyRootFilesystem: true
                        capabilities:
                          drop: ["ALL"]

            """);
        return yaml.ToString();
    }

    /// <summary>A JSON string is a valid YAML double-quoted scalar: safe for any value.</summary>
    private static string Q(string value) => JsonSerializer.Serialize(value);
}
