using System.Text.Json.Serialization;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>The steps of an offboarding, in the order they run (docs/offboarding.md). Each is a job of its own and idempotent.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OffboardingStep>))]
public enum OffboardingStep { Export, DestroyWorkspaces, UninstallAgents, Revoke, CloudAccess, Certificate, Purge, Done }

public enum OffboardingStatus { Running, AwaitingPurge, Purged, Failed }

/// <summary>What happens to a workspace: its infrastructure stays in the tenant's account (only the agent leaves), or it is destroyed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WorkspaceFate>))]
public enum WorkspaceFate { Keep, Destroy }

/// <summary>When the tenant's metadata leaves the Portal: right after the certificate, or after the platform's retention.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PurgeTiming>))]
public enum PurgeTiming { AfterRetention, Immediately }

public sealed record PlannedTenant(Guid Id, Guid? ParentId, string Slug, string Name, int Depth);

public sealed record PlannedMember(Guid TenantId, Guid UserId, string Username, string? Email, string Role);

public sealed record PlannedApp(string App, string Namespace, string ChartVersion);

public sealed record PlannedWorkspace(
    Guid Id, Guid TenantId, string Name, string Status, string Provider, Guid CloudAccountId, string CloudAccountName, IReadOnlyList<PlannedApp> Apps)
{
    public WorkspaceFate Fate { get; init; } = WorkspaceFate.Keep;
}

public sealed record PlannedAccount(Guid Id, Guid TenantId, string Provider, string Name, string AccountRef, string RoleArn);

public sealed record PlannedAgent(Guid Id, Guid TenantId, Guid WorkspaceId, string Name, string Status, DateTimeOffset? LastSeenAt);

/// <summary>Everything an offboarding covers, as found when it started (and as the page lists before it starts).</summary>
public sealed record OffboardingPlan(
    IReadOnlyList<PlannedTenant> Tenants,
    IReadOnlyList<PlannedMember> Members,
    IReadOnlyList<PlannedWorkspace> Workspaces,
    IReadOnlyList<PlannedAccount> Accounts,
    IReadOnlyList<PlannedAgent> Agents,
    PurgeTiming Purge = PurgeTiming.AfterRetention)
{
    public PlannedTenant Root => Tenants[0];
    public IReadOnlyList<Guid> TenantIds => Tenants.Select(t => t.Id).ToList();
    public IEnumerable<PlannedTenant> Children => Tenants.Skip(1);
}

/// <summary>What one step did, or left for the tenant to do, shown on the progress page and kept in the certificate.</summary>
public sealed record StepReport(DateTimeOffset? FinishedAt, IReadOnlyList<string> Done, IReadOnlyList<string> LeftToTenant)
{
    public static StepReport Waiting(IReadOnlyList<string> done) => new(null, done, []);
}

/// <summary>One offboarding as stored.</summary>
public sealed record OffboardingRecord(
    Guid Id,
    Guid TenantId,
    IReadOnlyList<Guid> TenantIds,
    OffboardingStatus Status,
    OffboardingStep Step,
    Guid? RequestedBy,
    string? RequestedByName,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    OffboardingPlan? Plan,
    IReadOnlyDictionary<OffboardingStep, StepReport> Progress,
    IReadOnlyDictionary<Guid, string?> ChainHeadsStart,
    IReadOnlyDictionary<Guid, string?>? ChainHeadsEnd,
    bool HasBundle,
    string? BundleSha256,
    string? Certificate,
    DateTimeOffset? PurgeAfter,
    DateTimeOffset? PurgedAt,
    string? LastError)
{
    /// <summary>Per cloud account, the last check that its role can no longer be assumed.</summary>
    public IReadOnlyDictionary<Guid, RoleCheck> RoleChecks { get; init; } = new Dictionary<Guid, RoleCheck>();

    public string TenantSlug => Plan?.Root.Slug ?? TenantId.ToString();
}

/// <summary>A check that Cogrion can no longer assume an account's role: <see cref="Assumable"/> false is what the tenant wants.</summary>
public sealed record RoleCheck(DateTimeOffset CheckedAt, bool Assumable, string Message);
