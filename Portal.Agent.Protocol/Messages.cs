using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Agent.Protocol;

/// <summary>POST /registrations. The public key is SubjectPublicKeyInfo (DER), base64.</summary>
public sealed record RegistrationRequest(string BootstrapToken, string PublicKey, string AgentVersion, string? Name);

/// <summary>The Portal's answer to a registration: who the agent now is, and the key it must pin for commands.</summary>
public sealed record RegistrationResponse(
    Guid AgentId,
    Guid TenantId,
    Guid WorkspaceId,
    int ProtocolVersion,
    string TokenAudience,
    string CommandKeyId,
    string CommandPublicKey,
    int HeartbeatSeconds);

/// <summary>POST /token: a client assertion (compact JWS, ES256) signed with the agent's key.</summary>
public sealed record TokenRequest(string Assertion);

public sealed record TokenResponse(string AccessToken, int ExpiresIn, string TokenType);

/// <summary>The claims of a client assertion (RFC 7523 shape).</summary>
public sealed record AssertionClaims(string Iss, string Sub, string Aud, string Jti, long Iat, long Exp);

/// <summary>The protected header of every JWS in the protocol.</summary>
public sealed record JwsHeader(string Alg, string Typ, string? Kid);

/// <summary>GET /commands answers 200 with this (possibly after waiting), or 204 when nothing came before the wait ended.</summary>
public sealed record CommandBatch(IReadOnlyList<string> Commands);

/// <summary>
/// What the Portal signs: one command, bound to one agent, with an expiry. The payload carries no
/// secret (invariant): anything secret is delivered as ciphertext to the agent's key, never here.
/// </summary>
public sealed record CommandEnvelope(
    Guid Id,
    Guid AgentId,
    string Type,
    JsonElement Payload,
    string IdempotencyKey,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt);

/// <summary>POST /commands/{id}/result.</summary>
public sealed record CommandResult(string Outcome, string? Message, JsonObject? Output);

/// <summary>PUT /key: during an agent.rotate-key command, the agent's new public key (SPKI, base64).</summary>
public sealed record KeyRotationRequest(Guid CommandId, string PublicKey);

/// <summary>POST /heartbeat.</summary>
public sealed record HeartbeatRequest(string AgentVersion, ClusterInventory Inventory);

public sealed record HeartbeatResponse(int HeartbeatSeconds);

/// <summary>
/// What the agent tells the Portal about its cluster. Names and numbers only; never object contents. Available: the
/// nodes' allocatable minus the requests of the pods bound to them (null: not known, e.g. RBAC of an older install).
/// </summary>
public sealed record ClusterInventory(
    string KubernetesVersion,
    IReadOnlyList<NodeSummary> Nodes,
    ClusterCapacity Capacity,
    IReadOnlyList<ManagedNamespace> Namespaces,
    IReadOnlyList<AppReport>? Apps = null,
    ClusterCapacity? Available = null);

/// <summary>
/// One catalog app as its cluster sees it: the Flux HelmRelease's conditions (type, status, reason,
/// message, as helm-controller wrote them), the chart version last attempted and the one last
/// deployed (the newest "deployed" entry of the release's history), and the readiness of the
/// workloads in the app's namespace. Names, numbers and Flux's own messages; never values.
/// DesiredRevision is the Portal's revision the HelmRelease carries (annotation cogrion.io/revision).
/// ReleaseStatus is the Helm status of the newest release in its history (deployed, failed, pending-upgrade...) and
/// ReleaseStatusSince when that release was last deployed or attempted: how a release stuck pending is seen.
/// </summary>
public sealed record AppReport(
    string Namespace,
    string App,
    string Release,
    long? Generation,
    long? ObservedGeneration,
    IReadOnlyList<ReleaseCondition> Conditions,
    string? LastAttemptedRevision,
    string? LastAppliedRevision,
    IReadOnlyList<WorkloadReadiness> Workloads,
    string? DesiredRevision = null,
    string? ReleaseStatus = null,
    DateTimeOffset? ReleaseStatusSince = null);

public sealed record ReleaseCondition(string Type, string Status, string? Reason, string? Message, DateTimeOffset? LastTransitionTime);

public sealed record WorkloadReadiness(string Kind, string Name, int Desired, int Ready);

public sealed record NodeSummary(string Name, bool Ready, string? KubeletVersion, string? Cpu, string? Memory);

public sealed record ClusterCapacity(double CpuCores, long MemoryBytes, int Pods);

public sealed record ManagedNamespace(string Name, string? App, string Status);

/// <summary>Payload of namespace.ensure: a tenant app's own namespace with a quota and a default-deny policy.</summary>
public sealed record EnsureNamespacePayload(string Namespace, string? App, string? CpuQuota, string? MemoryQuota, int? PodQuota,
    string? PodSecurity = null);

/// <summary>Payload of release.reconcile: the HelmRelease, and the value for Flux's requestedAt and forceAt annotations.</summary>
public sealed record ReconcileReleasePayload(string Namespace, string Name, string RequestedAt);

/// <summary>Payload of namespace.delete: an app namespace the agent created; everything in it goes with it.</summary>
/// <remarks>
/// DeleteData false (the default): before the namespace goes, the persistent volumes bound to its claims are set to the
/// Retain reclaim policy, so the data outlives the app (the volumes stay, Released). True: they go with their claims.
/// </remarks>
public sealed record DeleteNamespacePayload(string Namespace, bool DeleteData = false);

/// <summary>
/// Payload of agent.uninstall. <paramref name="KeepApps"/> (offboarding a workspace the tenant keeps): the app namespaces stay with
/// everything in them, handed over to the tenant: the agent's RoleBinding in each goes and its managed-by label comes off the namespace,
/// its quota and its network policy. Without it (the default, and an empty payload) every app namespace is deleted.
/// </summary>
public sealed record UninstallPayload(bool KeepApps = false);

/// <summary>Payload of manifest.apply: Kubernetes objects (JSON) applied server-side, in order.</summary>
public sealed record ApplyManifestPayload(IReadOnlyList<JsonObject> Objects);

/// <summary>Payload of manifest.delete: the objects to delete; a missing object counts as deleted.</summary>
public sealed record DeleteManifestPayload(IReadOnlyList<ObjectReference> Objects);

/// <summary>
/// Payload of agent.upgrade: the image to run (pinned by version, and digest where known), the version
/// it carries, and how long the new pod may take to become ready before the agent rolls back.
/// </summary>
public sealed record UpgradePayload(string Image, string Version, int? ReadyWithinSeconds);

public sealed record ObjectReference(string ApiVersion, string Kind, string Name, string? Namespace);

/// <summary>The RFC 7807 fields the agent reads.</summary>
public sealed record ProblemDetailsMessage(string? Type, string? Title, int? Status, string? Detail);
