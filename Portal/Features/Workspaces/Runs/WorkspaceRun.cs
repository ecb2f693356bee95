using System.Text.Json;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>
/// What a run does. <see cref="Unlock"/> releases a state lock a killed process left behind
/// (<c>tofu force-unlock</c>): an operator's decision, confirmed by typing the workspace's name.
/// <see cref="Upgrade"/> applies the workspace with the next Kubernetes minor version (the run carries it);
/// the workspace takes that version when the apply succeeds.
/// </summary>
public enum RunKind { Apply, Destroy, Drift, Unlock, Upgrade }

/// <summary>
/// Where a run is in its life: queued → planning → awaiting approval → applying → succeeded | failed |
/// cancelled | rejected. Stored as text (<c>workspace_runs.status</c>) by <see cref="EnumText"/>,
/// and written only by <see cref="RunLedger"/>.
/// </summary>
public enum RunStatus { Queued, Planning, AwaitingApproval, Applying, Succeeded, Failed, Cancelled, Rejected }

/// <summary>
/// The groups of <see cref="RunStatus"/> that queries and pages ask about, and its words for people. Its
/// stored text ("awaiting_approval") is <see cref="EnumText"/>'s, like every enum's.
/// </summary>
public static class RunStatusText
{
    /// <summary>A run in one of these holds the workspace: no other run may start.</summary>
    public static readonly RunStatus[] Active = [RunStatus.Queued, RunStatus.Planning, RunStatus.AwaitingApproval, RunStatus.Applying];

    /// <summary>The statuses in which a job of the run is (or should be) working on it; awaiting approval waits for a person.</summary>
    public static readonly RunStatus[] Working = [RunStatus.Queued, RunStatus.Planning, RunStatus.Applying];

    public static bool IsActive(this RunStatus status) => Active.Contains(status);

    /// <summary>The keys of several statuses, for <c>= any(@statuses)</c>.</summary>
    public static string[] Keys(IEnumerable<RunStatus> statuses) => statuses.Select(EnumText.ToDbText).ToArray();

    /// <summary>For people: "awaiting approval".</summary>
    public static string ToText(this RunStatus status) => status.ToDbText().Replace('_', ' ');
}

/// <summary>
/// The plan summary as stored: addresses and actions only, never values, and the plan's fingerprint
/// (a digest that leaves sensitive values out), which tells whether a plan made again is the approved one,
/// and the objects its refresh found changed or deleted outside OpenTofu (null in runs stored before that).
/// </summary>
public sealed record RunPlan(string Headline, IReadOnlyList<string> ToAdd, IReadOnlyList<string> ToChange, IReadOnlyList<string> ToDestroy,
    IReadOnlyList<string> ToReplace,
    string? Fingerprint = null, IReadOnlyList<string>? Drifted = null)
{

    public bool HasChanges => ToAdd.Count + ToChange.Count + ToDestroy.Count + ToReplace.Count > 0;
}

public sealed record StageTiming(string Stage, DateTimeOffset StartedAt, long DurationMs, bool Succeeded);

/// <summary>One run of a workspace, as the workspace page shows it.</summary>
/// <param name="StateLock">The state lock the run could not take (who held it, since when), or, for an <see cref="RunKind.Unlock"/> run, the lock it
/// releases.</param>
/// <param name="WorkerLostAt">When the Portal found that the worker running this run had stopped (its lease expired, or it shut down mid-run) and
/// ended the run for it.</param>
/// <param name="JobState">The state of the job that runs (or ran) the run now: a run still working whose job has ended lost its worker and is being
/// cleaned up.</param>
/// <param name="KubernetesVersion">The Kubernetes version an <see cref="RunKind.Upgrade"/> run sets; null for the other kinds.</param>
public sealed record WorkspaceRun(
    Guid Id,
    Guid WorkspaceId,
    RunKind Kind,
    RunStatus Status,
    string? Stage,
    RunPlan? Plan,
    string? Error,
    string? WorkspaceState,
    IReadOnlyList<StageTiming> StageTimings,
    long? PlanJobId,
    long? ApplyJobId,
    string RequestedBy,
    string? ApprovedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    TofuStateLock? StateLock = null,
    DateTimeOffset? WorkerLostAt = null,
    string? JobState = null,
    string? KubernetesVersion = null)
{
    public bool IsActive => Status.IsActive();

    /// <summary>
    /// Still working by its status, but its job is over: the worker that ran it stopped. The Portal ends
    /// what that worker left running and then fails the run (<see cref="RunRecovery"/>); until then no
    /// other run may start.
    /// </summary>
    public bool IsBeingRecovered => RunStatusText.Working.Contains(Status) && JobState is "succeeded" or "failed" or "cancelled";

    /// <summary>The jobs whose logs make up this run's log, in order.</summary>
    public IEnumerable<long> JobIds => new[] { PlanJobId, ApplyJobId }.OfType<long>();

    /// <summary>The workspace as this run plans it: an upgrade plans the workspace with its new Kubernetes version.</summary>
    public Workspace Planning(Workspace workspace) => KubernetesVersion is { } version ? workspace with { KubernetesVersion = version } : workspace;

    /// <summary>What the run does, for people: "apply", "upgrade to Kubernetes 1.35".</summary>
    public string KindText => Kind == RunKind.Upgrade ? $"upgrade to Kubernetes {KubernetesVersion}" : Kind.ToDbText();

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}

/// <summary>The stages of a run (stored by their <c>TofuStage</c> names) in the words the pages use.</summary>
public static class RunStages
{
    public static string Display(string? stage) => stage switch
    {
        "StateBackend" => "State backend",
        "CheckVersion" => "Version check",
        "Prepare" => "Preparation",
        "Init" => "Init",
        "Plan" => "Plan",
        "Summarize" => "Plan summary",
        "Apply" => "Apply",
        "ReadOutputs" => "Outputs",
        "Unlock" => "Releasing the state lock",
        null => "—",
        var other => other,
    };
}
