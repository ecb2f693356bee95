namespace Cogrion.Agent.Protocol;

/// <summary>
/// The names the Cluster Agent and its install share. The install itself is one template,
/// terraform/modules/cluster-agent/install.yaml.tftpl, which the OpenTofu module renders with
/// <c>templatefile</c> and the Portal renders for the kubectl path (<see cref="InstallTemplate"/>);
/// <c>AgentInstallContractTests</c> fail when the template and these names disagree, so a rename
/// here or there cannot reach a cluster unnoticed (issue 11: they once drifted until no agent installed
/// by the module could register).
/// </summary>
public static class AgentInstall
{
    /// <summary>The agent's own namespace: its Deployment, service account, bootstrap and state Secrets.</summary>
    public const string Namespace = "cogrion-agent";

    public const string ServiceAccount = "cogrion-agent";

    /// <summary>The agent's Deployment; the only object it may patch in its own namespace (self-upgrade).</summary>
    public const string Deployment = "cogrion-agent";

    /// <summary>The agent's container in the Deployment.</summary>
    public const string Container = "agent";

    /// <summary>The Secret the agent keeps its key and registration in (created by the agent at first start).</summary>
    public const string StateSecret = "cogrion-agent-state";

    /// <summary>The ConfigMap where the agent shows its identity fingerprint to the tenant (docs/secrets.md).</summary>
    public const string IdentityConfigMap = "cogrion-agent-identity";

    /// <summary>The key of <see cref="StateSecret"/> that holds the state.</summary>
    public const string StateSecretKey = "state.json";

    /// <summary>The Secret holding the one-time bootstrap token, mounted as a file.</summary>
    public const string BootstrapSecret = "cogrion-agent-bootstrap";

    public const string BootstrapSecretKey = "token";

    /// <summary>Where the bootstrap Secret is mounted; files, not environment variables, so the token stays out of process listings.</summary>
    public const string BootstrapTokenDirectory = "/var/run/cogrion/bootstrap";

    public const string BootstrapTokenFile = BootstrapTokenDirectory + "/" + BootstrapSecretKey;

    /// <summary>The environment variable that tells the agent where the token file is (Agent:BootstrapTokenFile).</summary>
    public const string BootstrapTokenFileVariable = "Agent__BootstrapTokenFile";

    /// <summary>The environment variable with the Portal's URL (Agent:PortalUrl).</summary>
    public const string PortalUrlVariable = "Agent__PortalUrl";

    /// <summary>The environment variable with the pod's own address, where the readiness endpoint listens (Agent:HealthAddress).</summary>
    public const string HealthAddressVariable = "Agent__HealthAddress";

    /// <summary>Cluster-wide rights: inventory reads, app namespaces, binding <see cref="WorkloadClusterRole"/>.</summary>
    public const string ClusterRole = "cogrion-agent";

    public const string ClusterRoleBinding = "cogrion-agent";

    /// <summary>What the agent may do inside each app namespace it creates; bound there by a RoleBinding, never cluster-wide.</summary>
    public const string WorkloadClusterRole = "cogrion-agent-workload";

    /// <summary>The name of the RoleBinding of <see cref="WorkloadClusterRole"/> in each app namespace.</summary>
    public const string WorkloadRoleBinding = "cogrion-agent";

    /// <summary>
    /// The identity support reads act as (ServiceAccount in <see cref="Namespace"/>, ClusterRole and ClusterRoleBinding of the same
    /// name): it may read pods, their logs, events and workloads, and nothing else, so no support action can reach a Secret or a
    /// ConfigMap even if the agent's own checks were wrong. The agent may only impersonate it; no pod runs as it.
    /// </summary>
    public const string SupportReader = "cogrion-support-reader";

    /// <summary>The user name the API server knows <see cref="SupportReader"/> by, for the <c>Impersonate-User</c> header.</summary>
    public const string SupportReaderUser = "system:serviceaccount:" + Namespace + ":" + SupportReader;

    /// <summary>Rights in its own namespace: its state Secret, its own Deployment, reading its pods.</summary>
    public const string SelfRole = "cogrion-agent-self";

    public const string SelfRoleBinding = "cogrion-agent-self";

    /// <summary>The readiness endpoint: 200 once the agent has exchanged a token with the Portal and completed a poll.</summary>
    public const string ReadinessPath = "/readyz";

    /// <summary>The port of <see cref="ReadinessPath"/>, named <see cref="HealthPortName"/> in the Deployment.</summary>
    public const int HealthPort = 8081;

    public const string HealthPortName = "health";

    /// <summary>The label that selects the agent's pods.</summary>
    public const string NameLabel = "app.kubernetes.io/name";

    public const string NameLabelValue = "cogrion-agent";

    public const string TenantLabel = "cogrion.io/tenant-id";

    public const string WorkspaceLabel = "cogrion.io/workspace-id";

    /// <summary>The container image repository; images are always pinned by version (and digest where known), never "latest".</summary>
    public const string ImageRepository = "ghcr.io/cogrion/portal-agent";
}

/// <summary>Labels the agent puts on what it creates, so it can find (and uninstall) exactly that.</summary>
public static class AgentLabels
{
    public const string ManagedBy = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "cogrion-agent";
    public const string App = "cogrion.dev/app";
    public const string FieldManager = "cogrion-agent";
    public const string ManagedSelector = ManagedBy + "=" + ManagedByValue;
}

/// <summary>
/// The one thing the agent knows about the sandbox: the simulated kubelet has no mount namespace, so it
/// runs each container with its files (service-account token, mounted Secrets) under a directory of
/// their own and names it in this variable; paths below it are the real ones (docs/sandbox.md).
/// </summary>
public static class SandboxContainer
{
    public const string RootVariable = "COGRION_SANDBOX_CONTAINER_ROOT";
}
