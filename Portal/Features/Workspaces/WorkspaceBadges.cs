using Cogrion.Portal.Components.Controls;
using Cogrion.Portal.Features.CloudAccounts;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>A workspace's status chip and provider mark, the same wherever a workspace appears.</summary>
public static class WorkspaceBadges
{
    public static RenderFragment Status(WorkspaceStatus status, string label = "Workspace status") =>
        StatusChip.Render(status.ToText(), ToneOf(status), label);

    public static StatusTone ToneOf(WorkspaceStatus status) => status switch
    {
        WorkspaceStatus.Ready => StatusTone.Success,
        WorkspaceStatus.Failed => StatusTone.Error,
        WorkspaceStatus.Drifted or WorkspaceStatus.AwaitingApproval => StatusTone.Warning,
        WorkspaceStatus.Provisioning or WorkspaceStatus.Updating or WorkspaceStatus.Destroying => StatusTone.Progress,
        WorkspaceStatus.Pending => StatusTone.Info,
        _ => StatusTone.Neutral,
    };
}
