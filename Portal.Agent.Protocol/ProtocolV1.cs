namespace Cogrion.Agent.Protocol;

/// <summary>Paths and constants of agent protocol v1 (docs/agent-protocol.md). A breaking change is v2 under a new prefix.</summary>
public static class ProtocolV1
{
    public const int Version = 1;
    public const string Prefix = "/api/agent/v1";
    public const string Registrations = Prefix + "/registrations";
    public const string Token = Prefix + "/token";
    public const string Commands = Prefix + "/commands";
    public const string Heartbeat = Prefix + "/heartbeat";
    public const string Key = Prefix + "/key";
    /// <summary>PUT: the agent's current encryption key statement (docs/secrets.md).</summary>
    public const string EncryptionKey = Prefix + "/encryption-key";
    public const string SecretDeliveries = Prefix + "/secret-deliveries";

    public static string SecretDelivery(Guid deliveryId) => $"{SecretDeliveries}/{deliveryId}";

    public static string CommandResult(Guid commandId) => $"{Commands}/{commandId}/result";

    /// <summary>The longest lifetime the Portal accepts for a client assertion (exp - iat).</summary>
    public static readonly TimeSpan MaxAssertionLifetime = TimeSpan.FromMinutes(5);

    /// <summary>JWS "typ" of a signed command, so a command can never be mistaken for a client assertion or vice versa.</summary>
    public const string CommandJwsType = "cogrion-command+jws";
    public const string AssertionJwsType = "JWT";
}

/// <summary>The command types of protocol v1. An agent answers any other type with a failed result.</summary>
public static class CommandTypes
{
    public const string EnsureNamespace = "namespace.ensure";
    public const string ApplyManifest = "manifest.apply";
    public const string DeleteManifest = "manifest.delete";
    public const string ReportInventory = "inventory.report";
    public const string RotateKey = "agent.rotate-key";
    public const string Uninstall = "agent.uninstall";
    /// <summary>Patch the agent's own Deployment to another image; roll back if it does not become ready in time.</summary>
    public const string Upgrade = "agent.upgrade";
    /// <summary>Fetch a sealed secret, open it with the agent's encryption key, write the Kubernetes Secret.</summary>
    public const string ApplySecret = "secret.apply";
    public const string DeleteSecret = "secret.delete";

    /// <summary>Delete an app's namespace (and everything in it) that the agent created.</summary>
    public const string DeleteNamespace = "namespace.delete";

    /// <summary>
    /// Ask Flux to reconcile an app's HelmRelease now, forced (`flux reconcile helmrelease --force`): how a release stuck
    /// in a pending-* state is unlocked and retried by Flux's own remediation.
    /// </summary>
    public const string ReconcileRelease = "release.reconcile";
    /// <summary>Support access (docs/support-access.md): pin or change the tenant's approver keys.</summary>
    public const string SupportApprovers = "support.approvers";
    /// <summary>Record a grant whose approval the agent verified against its pinned approver keys.</summary>
    public const string SupportGrant = "support.grant";
    /// <summary>End a grant, or close a request that was denied.</summary>
    public const string SupportRevoke = "support.revoke";
    /// <summary>One read of a support session, executed only inside its grant's window and scope.</summary>
    public const string SupportAction = "support.action";

    public static readonly IReadOnlyList<string> All =
    [
        EnsureNamespace, ApplyManifest, DeleteManifest, ReportInventory, RotateKey, Uninstall, Upgrade, ApplySecret, DeleteSecret,
        DeleteNamespace, ReconcileRelease, SupportApprovers, SupportGrant, SupportRevoke, SupportAction,
    ];
}

/// <summary>How a command ended, as the agent reports it.</summary>
public static class CommandOutcomes
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    /// <summary>The agent refused to act: bad signature, another agent's command, expired.</summary>
    public const string Rejected = "rejected";

    public static bool IsKnown(string? value) => value is Succeeded or Failed or Rejected;
}

/// <summary>RFC 7807 "type" values the agent acts on; everything else is a plain error.</summary>
public static class ProblemTypes
{
    /// <summary>The agent was revoked: it must stop calling and say why (the problem's detail).</summary>
    public const string AgentRevoked = "https://cogrion.dev/problems/agent-revoked";
    /// <summary>The access token is missing, unknown or expired: get a new one with a fresh assertion.</summary>
    public const string InvalidToken = "https://cogrion.dev/problems/invalid-token";
    /// <summary>The client assertion was refused (signature, audience, lifetime, replay).</summary>
    public const string InvalidAssertion = "https://cogrion.dev/problems/invalid-assertion";
    /// <summary>The bootstrap token is unknown, used or expired: a new one must be minted.</summary>
    public const string InvalidBootstrapToken = "https://cogrion.dev/problems/invalid-bootstrap-token";
}
