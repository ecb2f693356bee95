using Cogrion.Portal.Components.Controls;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>An app's status chip and icon, the same on the workspace page, the catalog and the app page.</summary>
public static class AppBadges
{
    public static RenderFragment Status(AppState state, string label) => StatusChip.Render(state.ToString(), ToneOf(state), label);

    public static StatusTone ToneOf(AppState state) => state switch
    {
        AppState.Ready => StatusTone.Success,
        AppState.Failed => StatusTone.Error,
        AppState.Degraded => StatusTone.Warning,
        AppState.Installing or AppState.Removing => StatusTone.Progress,
        _ => StatusTone.Neutral,
    };

    /// <summary>The app's icon from its catalog folder (our own files, not user input), decorative: the name is beside it.</summary>
    public static RenderFragment Icon(CatalogApp app) => builder =>
    {
        builder.OpenElement(0, "span");
        builder.AddAttribute(1, "class", "portal-app-icon");
        builder.AddAttribute(2, "aria-hidden", "true");
        builder.AddMarkupContent(3, app.IconSvg);
        builder.CloseElement();
    };
}
