using Cogrion.Portal.Infrastructure.Audit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Cogrion.Portal.Features.Agents.Versions;

public partial class AgentUpgradeButton
{
    [Inject] private AgentUpgrades Upgrades { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Parameter, EditorRequired] public Guid AgentId { get; set; }
    [Parameter] public string AgentName { get; set; } = "";
    [Parameter, EditorRequired] public AgentVersionStatus Status { get; set; } = default!;
    [Parameter] public bool Active { get; set; } = true;

    /// <summary>The tenant the page is scoped to (a tenant admin's page); null on the platform admins' fleet page.</summary>
    [Parameter] public Guid? TenantId { get; set; }

    private bool busy;
    private string? message;

    private async Task UpgradeAsync()
    {
        busy = true;
        var actor = (await AuthenticationState).User.AsActor();
        var request = await Upgrades.RequestAsync(TenantId, AgentId, actor, Aborted);
        message = request.Refusal switch
        {
            UpgradeRefusal.None
                => $"Upgrade to {request.Version} requested; the agent rolls back by itself if the new version does not become ready.",
            UpgradeRefusal.AlreadyCurrent => $"The agent already runs {request.Version}.",
            UpgradeRefusal.NotActive => "The agent is not active; it cannot be upgraded.",
            _ => "No such agent.",
        };
        busy = false;
    }
}
