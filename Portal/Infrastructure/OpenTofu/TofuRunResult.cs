namespace Cogrion.Portal.Infrastructure.OpenTofu;

public enum TofuRunStatus { Succeeded, Failed, Cancelled }

public sealed record TofuStageTiming(TofuStage Stage, DateTimeOffset StartedAt, TimeSpan Duration, bool Succeeded);

/// <summary>
/// How a run (or its plan half, or its apply half) ended. On failure and cancellation
/// <see cref="Stage"/> is where it stopped, <see cref="Error"/> says why in plain words, and
/// <see cref="WorkspaceState"/> says what that means for the cloud resources.
/// </summary>
public sealed record TofuRunResult
{
    public required TofuRunStatus Status { get; init; }

    /// <summary>The stage the run ended in: the last one on success, the failing or interrupted one otherwise.</summary>
    public required TofuStage Stage { get; init; }

    public string? Error { get; init; }
    public string? WorkspaceState { get; init; }
    public IReadOnlyList<TofuStageTiming> Timings { get; init; } = [];

    /// <summary>The OpenTofu version that ran (what <c>tofu version -json</c> said).</summary>
    public string? TofuVersion { get; init; }

    /// <summary>When the run failed because another process holds the state's lock: who, since when, and the ID that releases it.</summary>
    public TofuStateLock? StateLock { get; init; }

    public TofuPlanSummary? Plan { get; init; }
    public TofuOutputs? Outputs { get; init; }

    public bool Succeeded => Status == TofuRunStatus.Succeeded;
}
