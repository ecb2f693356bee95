using Cogrion.Portal.Infrastructure.Audit;
using MudBlazor;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>The app page's queued actions (<see cref="QueuedAppCommands"/>): read with the app, cancelled by an operator.</summary>
public partial class AppPage
{
    private IReadOnlyList<QueuedAppCommand> queued = [];

    private async Task LoadQueuedAsync() =>
        queued = view is null ? [] : await Apps.QueuedAsync(Current.TenantId, view.App.Id, Aborted);

    /// <summary>Withdraws a command the agent has not taken (the service checks again, atomically, and says if the agent got it first).</summary>
    private async Task CancelQueuedAsync(QueuedAppCommand command)
    {
        if (workspace is null || view is null || busy) return;
        busy = true;
        try
        {
            actionError = null;
            var result = await Apps.CancelQueuedAsync(Current.TenantId, workspace, view.App.App, command.Id, User.AsActor(), Aborted);
            if (result.Outcome == CancelOutcome.Cancelled) Snackbar.Add($"Cancelled. {result.Message}", Severity.Success);
            else actionError = result.Message;
            await ReloadAsync();
            ResetUpgrade();
        }
        finally
        {
            busy = false;
        }
    }
}
