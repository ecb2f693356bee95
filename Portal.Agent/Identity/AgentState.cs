using System.Text.Json.Serialization;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Identity;

/// <summary>
/// Everything the agent must remember across restarts: who it is, its private key (PKCS#8, base64;
/// it never leaves the cluster), and the Portal's command key it pinned at registration.
/// </summary>
public sealed record AgentState
{
    public required Guid AgentId { get; init; }
    public required Guid TenantId { get; init; }
    public required Guid WorkspaceId { get; init; }
    public required string PortalUrl { get; init; }
    public required string TokenAudience { get; init; }
    public required string PrivateKey { get; init; }
    /// <summary>A key being rotated in: kept until the Portal has accepted it, so a crash mid-rotation cannot lock the agent out.</summary>
    public string? PendingPrivateKey { get; init; }
    public required string CommandKeyId { get; init; }
    public required string CommandPublicKey { get; init; }
    public required DateTimeOffset RegisteredAt { get; init; }
    /// <summary>Encryption keys for sealed secrets (docs/secrets.md): the current one and those within their 48 h grace.</summary>
    public IReadOnlyList<EncryptionKeyState>? EncryptionKeys { get; init; }
    /// <summary>Request ids of sealed secrets applied, with their not-after (unix seconds): a reused id is a replay until then.</summary>
    public IReadOnlyDictionary<string, long>? SecretRequests { get; init; }
    /// <summary>The tenant's approver keys for support access, pinned on first sight and changed only with an approver's signature.</summary>
    public SupportApproverSet? SupportApprovers { get; init; }
    /// <summary>Support grants the agent verified, and requests it was told were denied or revoked; kept until their not-after.</summary>
    public IReadOnlyList<SupportGrantState>? SupportGrants { get; init; }
    /// <summary>Set when the Portal revoked the agent: it then never calls again and says why at each start.</summary>
    public string? RevokedReason { get; init; }
}

/// <summary>One encryption key pair (P-256 ECDH): the private half (PKCS#8, base64) never leaves the cluster.</summary>
public sealed record EncryptionKeyState(string KeyId, string PrivateKey, DateTimeOffset CreatedAt, DateTimeOffset NotAfter);

/// <summary>
/// A support grant as the agent holds it. <see cref="Grant"/> is null for a request that was denied before any grant
/// (so a grant for it arriving later is refused). <see cref="EndedReason"/> is set when it was revoked or denied.
/// </summary>
public sealed record SupportGrantState(Guid RequestId, SupportGrant? Grant, string? ApprovedBy, long KeepUntil, string? EndedReason = null);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(AgentState))]
internal sealed partial class AgentStateJson : JsonSerializerContext;
