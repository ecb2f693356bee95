using Cogrion.Portal.Components.Dialogs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>
/// Shows the lock the last run could not take and lets an operator release it (an unlock run, audited),
/// behind the workspace's name typed in full. <see cref="Release"/> does the work (the page calls
/// <see cref="WorkspaceCommands.ReleaseStateLockAsync"/>, which checks the name again) and answers null
/// when the release was queued, or why it was refused.
/// </summary>
public partial class StateLockRelease
{
    [Inject] private IDialogService Dialogs { get; set; } = default!;

    [Parameter, EditorRequired] public TofuStateLock Lock { get; set; } = default!;
    [Parameter, EditorRequired] public string WorkspaceName { get; set; } = "";
    [Parameter] public bool CanOperate { get; set; }
    [Parameter, EditorRequired] public Func<string, string, Task<string?>> Release { get; set; } = default!;

    private bool releasing;
    private string? error;

    private async Task ConfirmReleaseAsync()
    {
        error = null;
        var dialog = await Dialogs.ShowAsync<TypedConfirmationDialog>("Release the state lock?", new DialogParameters<TypedConfirmationDialog>
        {
            { d => d.Title, "Release the state lock?" },
            {
                d => d.Message,
                $"Lock {Lock.Id} is released (tofu force-unlock). If a run of {WorkspaceName} is still at work, "
                + "two runs could then write its state."
            },
            { d => d.Expected, WorkspaceName },
            { d => d.ActionLabel, "Release lock" },
        }, new DialogOptions { CloseOnEscapeKey = true, MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: string typed }) return;
        releasing = true;
        try
        {
            error = await Release(Lock.Id, typed);
        }
        finally
        {
            releasing = false;
        }
    }
}
