using Cogrion.Portal.Components.Controls;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Agents.Pages;

/// <summary>An agent's health as a chip whose text says it (colour is never the only signal).</summary>
public static class AgentHealthBadge
{
    public static RenderFragment Render(string health, string label = "Agent health") => StatusChip.Render(health, health switch
    {
        "online" => StatusTone.Success,
        "offline" => StatusTone.Error,
        "never-seen" => StatusTone.Warning,
        _ => StatusTone.Neutral,
    }, label);
}
