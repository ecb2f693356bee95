using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cogrion.Agent.Protocol;

/// <summary>
/// Support access (docs/support-access.md): a platform admin's time-bound access to one workspace, approved by a
/// tenant admin's passkey and enforced by the agent. These are the shapes both sides sign and check; the
/// challenges are SHA-256 of a canonical text, so the Portal, the browser and the agent derive the same bytes.
/// </summary>
public static class SupportScopes
{
    /// <summary>Workloads, pods, events and their descriptions in the tenant's app namespaces.</summary>
    public const string Status = "status";

    /// <summary>Status, and the last lines of a container's log.</summary>
    public const string StatusAndLogs = "status+logs";

    public static bool IsKnown(string? scope) => scope is Status or StatusAndLogs;
}

/// <summary>What a support session may ask the agent to do; each action names the scope it needs.</summary>
public static class SupportActions
{
    public const string List = "list";
    public const string Describe = "describe";
    public const string Logs = "logs";

    public static bool Allows(string scope, string action) => action switch
    {
        List or Describe => SupportScopes.IsKnown(scope),
        Logs => scope == SupportScopes.StatusAndLogs,
        _ => false,
    };
}

/// <summary>
/// One tenant approver: a passkey registered by a tenant admin. The public key is the COSE key the
/// authenticator made (base64url); the user id lets the agent refuse a requester approving their own request.
/// </summary>
public sealed record SupportApprover(string CredentialId, string PublicKey, Guid UserId, string Name);

/// <summary>
/// The tenant's approver keys, as an agent pins them. Versions only grow; a new version must be endorsed by
/// an approver of the pinned one (ADR 0090). The relying party id and origin are pinned with the keys, so a
/// Portal cannot move the ceremony to an origin of its choosing.
/// </summary>
public sealed record SupportApproverSet(Guid TenantId, long Version, string RpId, string Origin, IReadOnlyList<SupportApprover> Approvers)
{
    /// <summary>What an endorsing approver signs: every field, approvers in credential id order.</summary>
    public string Canonical()
    {
        var text = new StringBuilder("cogrion-support-approvers-v1\n")
            .Append("tenant:").Append(TenantId.ToString("D")).Append('\n')
            .Append("version:").Append(Version.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("rp-id:").Append(RpId).Append('\n')
            .Append("origin:").Append(Origin).Append('\n');
        foreach (var approver in Approvers.OrderBy(a => a.CredentialId, StringComparer.Ordinal))
            text.Append("approver:").Append(approver.CredentialId).Append(' ').Append(approver.UserId.ToString("D")).Append(' ')
                .Append(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(approver.PublicKey)))).Append('\n');
        return text.ToString();
    }

    public byte[] Challenge() => SHA256.HashData(Encoding.UTF8.GetBytes(Canonical()));
}

/// <summary>A grant: one request, one workspace, one agent, one requester, a scope and a window (unix seconds).</summary>
public sealed record SupportGrant(
    Guid RequestId, Guid TenantId, Guid WorkspaceId, Guid AgentId, Guid RequesterId, string Scope, long NotBefore, long NotAfter)
{
    public string Canonical() => string.Create(CultureInfo.InvariantCulture, $"""
        cogrion-support-grant-v1
        request:{RequestId:D}
        tenant:{TenantId:D}
        workspace:{WorkspaceId:D}
        agent:{AgentId:D}
        requester:{RequesterId:D}
        scope:{Scope}
        not-before:{NotBefore}
        not-after:{NotAfter}

        """).Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>The WebAuthn challenge the approver's passkey signs.</summary>
    public byte[] Challenge() => SHA256.HashData(Encoding.UTF8.GetBytes(Canonical()));
}

/// <summary>A WebAuthn assertion as the browser returns it (each field base64url), relayed untouched by the Portal.</summary>
public sealed record WebAuthnAssertion(string CredentialId, string AuthenticatorData, string ClientDataJson, string Signature);

/// <summary>Payload of support.approvers: a new approver set, endorsed by a pinned approver unless none is pinned yet.</summary>
public sealed record SupportApproversPayload(SupportApproverSet Set, WebAuthnAssertion? Endorsement);

/// <summary>Payload of support.grant: the grant and the approver's assertion over its challenge.</summary>
public sealed record SupportGrantPayload(SupportGrant Grant, WebAuthnAssertion Approval);

/// <summary>Payload of support.revoke: ends a grant (revoked) or closes a request before any grant (denied).</summary>
public sealed record SupportRevokePayload(Guid RequestId, string Reason);

/// <summary>Payload of support.action: what the support session asks, under which grant.</summary>
public sealed record SupportActionPayload(
    Guid GrantId, string Action, string? Namespace = null, string? Kind = null, string? Name = null, string? Container = null, int? TailLines = null);
