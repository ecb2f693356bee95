using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Components.Controls;

/// <summary>
/// A status as a small chip whose text says the word, so colour is never the only signal. Its accessible
/// name says what it is the status of ("Status of lake"), so a screen reader (and a test) finds it by that
/// name. Markup, not a component: lists show many, and a circuit keeps every component for as long as the tab is open.
/// </summary>
public static class StatusChip
{
    public static RenderFragment Render(string text, StatusTone tone, string label) => builder =>
    {
        builder.OpenElement(0, "span");
        builder.AddAttribute(1, "class", $"portal-chip portal-chip--{tone.ToString().ToLowerInvariant()}");
        builder.AddAttribute(2, "role", "status");
        builder.AddAttribute(3, "aria-label", label);
        builder.AddContent(4, text);
        builder.CloseElement();
    };
}
