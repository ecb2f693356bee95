namespace Cogrion.Portal.Features.Offboarding;

/// <summary>The "Leave Cogrion" form: a fate per workspace (none chosen until the admin chooses), when to purge, and the typed slug.</summary>
public sealed class LeaveForm(OffboardingPlan plan)
{
    public OffboardingPlan Plan { get; } = plan;
    public Dictionary<Guid, WorkspaceFate?> Fates { get; } = plan.Workspaces.ToDictionary(w => w.Id, _ => (WorkspaceFate?)null);
    public PurgeTiming Purge { get; set; } = PurgeTiming.AfterRetention;
    public string Confirmation { get; set; } = "";

    public int Destroying => Fates.Values.Count(f => f == WorkspaceFate.Destroy);

    /// <summary>The request as the admin left it; unchosen workspaces are left out, so the rules name each one.</summary>
    public OffboardingRequest ToRequest() =>
        new(Confirmation, Fates.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value!.Value), Purge);

    public IEnumerable<PlannedMember> MembersOf(Guid tenantId) => Plan.Members.Where(m => m.TenantId == tenantId);
}
