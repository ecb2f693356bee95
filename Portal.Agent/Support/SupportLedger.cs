using Cogrion.Agent.Identity;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Support;

/// <summary>
/// The agent's own record of support access, kept in its state Secret: the pinned approver keys and every
/// grant it verified. The decision whether a support action may run is made here, against the agent's clock,
/// with no help from the Portal: a grant past its not-after is over even if the Portal never says so.
/// </summary>
public sealed class SupportLedger(AgentSession session, IAgentStateStore store, TimeProvider time)
{
    public SupportApproverSet? Approvers => session.State.SupportApprovers;

    public long Now => time.GetUtcNow().ToUnixTimeSeconds();

    public SupportGrantState? Find(Guid requestId) => session.State.SupportGrants?.FirstOrDefault(g => g.RequestId == requestId);

    public Task PinAsync(SupportApproverSet set, CancellationToken cancellationToken) =>
        SaveAsync(session.State with { SupportApprovers = set }, cancellationToken);

    /// <summary>Adds or replaces one entry, dropping those past their keep-until (a grant past not-after refuses by its window anyway).</summary>
    public Task RecordAsync(SupportGrantState entry, CancellationToken cancellationToken)
    {
        var now = Now;
        var grants = (session.State.SupportGrants ?? []).Where(g => g.RequestId != entry.RequestId && g.KeepUntil > now).Append(entry).ToList();
        return SaveAsync(session.State with { SupportGrants = grants }, cancellationToken);
    }

    /// <summary>Why an action under <paramref name="grantId"/> may not run now, or null when it may.</summary>
    public string? Refusal(Guid grantId, string action)
    {
        var entry = Find(grantId);
        if (entry?.Grant is not { } grant) return entry is null
            ? $"this agent holds no grant {grantId}"
            : $"request {grantId} was {entry.EndedReason ?? "closed"}";
        if (entry.EndedReason is { } ended) return $"grant {grantId} was {ended}";
        var now = Now;
        if (now < grant.NotBefore) return $"grant {grantId} starts at {DateTimeOffset.FromUnixTimeSeconds(grant.NotBefore):u} (agent clock)";
        if (now >= grant.NotAfter) return $"grant {grantId} ended at {DateTimeOffset.FromUnixTimeSeconds(grant.NotAfter):u} (agent clock)";
        if (!SupportActions.Allows(grant.Scope, action)) return $"action '{action}' is outside the grant's scope '{grant.Scope}'";
        return null;
    }

    private async Task SaveAsync(AgentState next, CancellationToken cancellationToken)
    {
        await store.SaveAsync(next, cancellationToken);
        session.Use(next);
    }
}
