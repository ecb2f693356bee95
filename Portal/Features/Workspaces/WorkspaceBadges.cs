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

    /// <summary>The provider's icon with its name as the text (the sandbox says "simulated").</summary>
    public static RenderFragment Provider(CloudProvider provider) => builder =>
    {
        builder.OpenElement(0, "span");
        builder.AddAttribute(1, "class", "portal-provider");
        builder.OpenElement(2, "img");
        builder.AddAttribute(3, "src", $"assets/icons/{provider.ToKey()}.svg");
        builder.AddAttribute(4, "alt", "");
        builder.AddAttribute(5, "width", "20");
        builder.AddAttribute(6, "height", "20");
        builder.CloseElement();
        builder.OpenElement(7, "span");
        builder.AddContent(8, provider.ToText());
        builder.CloseElement();
        builder.CloseElement();
    };
}
