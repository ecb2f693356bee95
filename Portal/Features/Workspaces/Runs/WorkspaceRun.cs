using System.Text.Json;

namespace Cogrion.Portal.Features.Workspaces.Runs;

public enum RunKind { Apply, Destroy, Drift }

/// <summary>Statuses of a run, as stored (<c>workspace_runs.status</c>).</summary>
public static class RunStatuses
{
    public const string Queued = "queued";
    public const string Planning = "planning";
    public const string AwaitingApproval = "awaiting_approval";
    public const string Applying = "applying";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Rejected = "rejected";

    /// <summary>A run in one of these holds the workspace: no other run may start.</summary>
    public static readonly string[] Active = [Queued, Planning, AwaitingApproval, Applying];

    public static bool IsActive(string status) => Active.Contains(status);
}

/// <summary>
/// The plan summary as stored: addresses and actions only, never values, and the plan's fingerprint
/// (a digest that leaves sensitive values out), which tells whether a plan made again is the approved one,
/// and the objects its refresh found changed or deleted outside OpenTofu (null in runs stored before that).
/// </summary>
public sealed record RunPlan(string Headline, IReadOnlyList<string> ToAdd, IReadOnlyList<string> ToChange, IReadOnlyList<string> ToDestroy, IReadOnlyList<string> ToReplace,
    string? Fingerprint = null, IReadOnlyList<string>? Drifted = null)
{

    public bool HasChanges => ToAdd.Count + ToChange.Count + ToDestroy.Count + ToReplace.Count > 0;
}

public sealed record StageTiming(string Stage, DateTimeOffset StartedAt, long DurationMs, bool Succeeded);

/// <summary>One run of a workspace, as the workspace page shows it.</summary>
public sealed record WorkspaceRun(
    Guid Id,
    Guid WorkspaceId,
    RunKind Kind,
    string Status,
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
    DateTimeOffset? FinishedAt)
{
    public bool IsActive => RunStatuses.IsActive(Status);

    /// <summary>The jobs whose logs make up this run's log, in order.</summary>
    public IEnumerable<long> JobIds => new[] { PlanJobId, ApplyJobId }.OfType<long>();

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
        null => "—",
        var other => other,
    };
}
