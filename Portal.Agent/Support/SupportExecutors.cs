using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Commands;
using Cogrion.Agent.Identity;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Support;

/// <summary>
/// support.approvers: pins the tenant's approver keys. The first set the agent sees is pinned on the Portal's word
/// (trust on first use, ADR 0090); every later set must be a newer version endorsed by an approver already pinned,
/// so the Portal alone can neither add an approver nor swap the origin the ceremonies run on.
/// </summary>
public sealed class SupportApproversExecutor(SupportLedger ledger, AgentSession session) : ICommandExecutor
{
    public string Type => CommandTypes.SupportApprovers;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.SupportApproversPayload)
            ?? throw new InvalidPayloadException("set is required.");
        var set = payload.Set ?? throw new InvalidPayloadException("set is required.");
        if (set.TenantId != session.State.TenantId) return Refuse("the set is for another tenant");
        if (set.Approvers is null || set.Approvers.Count == 0) return Refuse("an approver set needs at least one approver");
        if (set.Approvers.Any(a => CoseKeyIsInvalid(a.PublicKey))) return Refuse("every approver key must be an ES256 (P-256) COSE key");
        if (string.IsNullOrWhiteSpace(set.RpId) || !Uri.TryCreate(set.Origin, UriKind.Absolute, out _))
            return Refuse("the set needs a relying party id and an absolute origin");

        var pinned = ledger.Approvers;
        if (pinned is not null)
        {
            if (pinned.Canonical() == set.Canonical())
                return CommandOutcome.Succeeded($"Approver set version {set.Version} is already pinned.", Output(set, firstUse: false));
            if (set.Version <= pinned.Version)
                return Refuse($"version {set.Version} is not newer than the pinned version {pinned.Version}");
            if (!WebAuthnVerifier.TryVerify(payload.Endorsement, pinned, set.Challenge(), out _, out var refusal))
                return Refuse($"the change is not endorsed by a pinned approver: {refusal}");
        }
        await ledger.PinAsync(set, cancellationToken);
        return CommandOutcome.Succeeded(pinned is null
            ? $"Pinned approver set version {set.Version} ({set.Approvers.Count} approver(s)) on first use."
            : $"Pinned approver set version {set.Version} ({set.Approvers.Count} approver(s)), endorsed by a pinned approver.",
            Output(set, firstUse: pinned is null));
    }

    private static bool CoseKeyIsInvalid(string? key)
    {
        using var imported = key is null ? null : CoseKey.TryImportEs256(key);
        return imported is null;
    }

    private static JsonObject Output(SupportApproverSet set, bool firstUse) => new() { ["version"] = set.Version, ["firstUse"] = firstUse };

    internal static CommandOutcome Refuse(string reason) => new(CommandOutcomes.Rejected, $"Refused: {reason}.");
}

/// <summary>
/// support.grant: records a grant only after checking its approval itself: this agent, tenant and workspace; a
/// window of at most 72 h; the approver's passkey signature over exactly this grant, by a pinned approver who is
/// not the requester. A grant for a request that was denied or revoked stays refused.
/// </summary>
public sealed class SupportGrantExecutor(SupportLedger ledger, AgentSession session) : ICommandExecutor
{
    public const long MaxWindowSeconds = 72 * 3600;

    public string Type => CommandTypes.SupportGrant;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.SupportGrantPayload)
            ?? throw new InvalidPayloadException("grant and approval are required.");
        var grant = payload.Grant ?? throw new InvalidPayloadException("grant is required.");
        var state = session.State;
        if (grant.AgentId != state.AgentId || grant.TenantId != state.TenantId || grant.WorkspaceId != state.WorkspaceId)
            return SupportApproversExecutor.Refuse("the grant names another agent, tenant or workspace");
        if (!SupportScopes.IsKnown(grant.Scope)) return SupportApproversExecutor.Refuse($"scope '{grant.Scope}' is unknown");
        if (grant.NotAfter <= grant.NotBefore || grant.NotAfter - grant.NotBefore > MaxWindowSeconds)
            return SupportApproversExecutor.Refuse("the window must be positive and at most 72 hours");
        if (grant.NotAfter <= ledger.Now) return SupportApproversExecutor.Refuse("the grant's window has already ended");

        var existing = ledger.Find(grant.RequestId);
        if (existing?.EndedReason is { } ended) return SupportApproversExecutor.Refuse($"request {grant.RequestId} was {ended}");
        if (existing?.Grant == grant) return CommandOutcome.Succeeded($"Grant {grant.RequestId} is already recorded.", Output(existing));
        if (existing is not null) return SupportApproversExecutor.Refuse($"request {grant.RequestId} already has a different grant");

        if (ledger.Approvers is not { } pinned) return SupportApproversExecutor.Refuse("this agent has no approver keys pinned yet");
        if (!WebAuthnVerifier.TryVerify(payload.Approval, pinned, grant.Challenge(), out var approver, out var refusal))
            return SupportApproversExecutor.Refuse($"the approval does not verify: {refusal}");
        if (approver!.UserId == grant.RequesterId)
            return SupportApproversExecutor.Refuse("the requester cannot approve their own request");

        var entry = new SupportGrantState(grant.RequestId, grant, approver.Name, grant.NotAfter);
        await ledger.RecordAsync(entry, cancellationToken);
        return CommandOutcome.Succeeded(
            $"Granted {grant.Scope} until {DateTimeOffset.FromUnixTimeSeconds(grant.NotAfter):u}, approved by {approver.Name}.", Output(entry));
    }

    private static JsonObject Output(SupportGrantState entry) => new()
    {
        ["requestId"] = entry.RequestId.ToString("D"),
        ["approvedBy"] = entry.ApprovedBy,
        ["notAfter"] = entry.Grant!.NotAfter,
    };
}

/// <summary>support.revoke: ends a grant now (or marks a denied request), whatever the Portal does afterwards.</summary>
public sealed class SupportRevokeExecutor(SupportLedger ledger) : ICommandExecutor
{
    /// <summary>A denied request is remembered this long, so an approval relayed for it later is refused.</summary>
    private const long DeniedKeptSeconds = 24 * 3600;

    public string Type => CommandTypes.SupportRevoke;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.SupportRevokePayload)
            ?? throw new InvalidPayloadException("requestId and reason are required.");
        var reason = string.IsNullOrWhiteSpace(payload.Reason) ? "revoked" : payload.Reason.Trim();
        if (reason.Length > 200) reason = reason[..200];
        var existing = ledger.Find(payload.RequestId);
        if (existing?.EndedReason is not null) return CommandOutcome.Succeeded($"Request {payload.RequestId} was already {existing.EndedReason}.");
        var entry = existing is null
            ? new SupportGrantState(payload.RequestId, null, null, ledger.Now + DeniedKeptSeconds, reason)
            : existing with { EndedReason = reason };
        await ledger.RecordAsync(entry, cancellationToken);
        return CommandOutcome.Succeeded(existing is null
            ? $"Request {payload.RequestId} is closed ({reason}); no grant for it will be accepted."
            : $"Grant {payload.RequestId} ended ({reason}).");
    }
}
