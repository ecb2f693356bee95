using Microsoft.AspNetCore.Components;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>
/// Shows the lock the last run could not take and lets an operator release it (an unlock run, audited).
/// <see cref="Release"/> does the work (the page calls <see cref="WorkspaceCommands.ReleaseStateLockAsync"/>)
/// and answers null when the release was queued, or why it was refused.
/// </summary>
public partial class StateLockRelease
{
    [Parameter, EditorRequired] public TofuStateLock Lock { get; set; } = default!;
    [Parameter, EditorRequired] public string WorkspaceName { get; set; } = "";
    [Parameter] public bool CanOperate { get; set; }
    [Parameter, EditorRequired] public Func<string, string, Task<string?>> Release { get; set; } = default!;

    private bool confirming;
    private bool releasing;
    private string typedName = "";
    private string? error;

    private async Task ReleaseAsync()
    {
        releasing = true;
        try
        {
            error = await Release(Lock.Id, typedName);
            if (error is null) confirming = false;
        }
        finally
        {
            releasing = false;
        }
    }
}
