using Cogrion.Portal.Infrastructure.Jobs;

namespace Cogrion.Portal.Features.Workspaces.Runs;

// The job kinds of a workspace run. Arguments hold ids only: the bootstrap token is minted inside
// the plan job and never leaves its memory and the run's deleted variables file.
// One attempt each: a failed plan or apply is not retried blindly (an operator reads the error and
// presses Retry, which starts a new run); a run whose worker died is shown with its job's outcome.

/// <summary>Plans a run; applies at once when the workspace approves automatically.</summary>
public sealed record WorkspacePlanJob(Guid TenantId, Guid WorkspaceId, Guid RunId) : IJobArguments
{
    public static string Kind => "provisioning.plan";
    public static JobPolicy Policy => new(1, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1));
}

/// <summary>Applies a plan an operator approved.</summary>
public sealed record WorkspaceApplyJob(Guid TenantId, Guid WorkspaceId, Guid RunId) : IJobArguments
{
    public static string Kind => "provisioning.apply";
    public static JobPolicy Policy => new(1, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1));
}

/// <summary>Recurring: starts a drift run for every ready workspace.</summary>
public sealed record DriftScanJob : IJobArguments
{
    public static string Kind => "provisioning.drift-scan";
}

public static class WorkspaceConcurrency
{
    /// <summary>At most one active job per workspace: its runs never overlap on the state.</summary>
    public static string Key(Guid workspaceId) => $"workspace:{workspaceId}";
}
