using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Agents.Pages;

public partial class AgentDetails
{
    [Parameter, EditorRequired] public AgentSummary Agent { get; set; } = default!;
    [Parameter, EditorRequired] public IReadOnlyList<AgentCommandView> Commands { get; set; } = [];
    [Parameter, EditorRequired] public DateTimeOffset Now { get; set; }
    [Parameter, EditorRequired] public TimeSpan OfflineAfter { get; set; }

    /// <summary>What may be done to the agent, shown between its status and its history (the admins' levers).</summary>
    [Parameter] public RenderFragment? Actions { get; set; }

    private ClusterInventory? inventory;

    protected override void OnParametersSet() => inventory = Agent.ParsedInventory();
}
