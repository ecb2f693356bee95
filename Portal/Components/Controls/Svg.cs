using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;

namespace Cogrion.Portal.Components.Controls;

/// <summary>
/// A MudBlazor icon (its SVG path data, e.g. <c>Icons.Material.Filled.Menu</c>) drawn inline, without a
/// component: for the shell and lists, where each component would live as long as the tab does.
/// Always decorative: the control around it carries the name.
/// </summary>
public static class Svg
{
    public static RenderFragment Icon(string icon, string size = "medium", string? extraClass = null) => builder
        => Write(builder, icon, size, extraClass);

    private static void Write(RenderTreeBuilder builder, string icon, string size, string? extraClass)
    {
        builder.OpenElement(0, "svg");
        builder.AddAttribute(1, "class", $"mud-icon-root mud-svg-icon mud-icon-size-{size}{(extraClass is null ? "" : " " + extraClass)}");
        builder.AddAttribute(2, "focusable", "false");
        builder.AddAttribute(3, "viewBox", "0 0 24 24");
        builder.AddAttribute(4, "aria-hidden", "true");
        builder.AddMarkupContent(5, icon);
        builder.CloseElement();
    }
}
