using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Input;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Cogrion.Portal.Features.Agents.Pages;

/// <summary>
/// One agent, for platform admins: status, inventory, command history (<see cref="AgentDetails"/>), and the
/// operator's levers. A tenant's members see the same details, read-only, on their workspace's page.
/// </summary>
public partial class AgentPage
{
    [Parameter] public Guid AgentId { get; set; }

    [Inject] private AgentRegistry Registry { get; set; } = default!;
    [Inject] private AgentCommandQueue Queue { get; set; } = default!;
    [Inject] private AgentOperations Operations { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private AgentSummary? agent;
    private IReadOnlyList<AgentCommandView> commands = [];
    private DateTimeOffset now;
    private bool loaded;
    private string? revokeReason;
    private string? message;

    protected override Task OnParametersSetAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        now = Time.GetUtcNow();
        agent = await Registry.GetAsync(AgentId, Aborted);
        commands = agent is null ? [] : await Queue.HistoryAsync(AgentId, 200, Aborted);
        loaded = true;
    }

    private async Task<Actor> ActorAsync()
    {
        var user = (await AuthenticationState).User;
        return user.AsActor();
    }

    private async Task EnqueueAsync(string type)
    {
        var sent = await Operations.SendCommandAsync(AgentId, type, await ActorAsync(), Aborted);
        message = sent.Succeeded ? $"Sent {type}; the agent receives it at once if it is online." : "The agent is no longer active.";
        await LoadAsync();
    }

    private async Task RevokeAsync()
    {
        if (string.IsNullOrWhiteSpace(revokeReason))
        {
            message = "Say why the agent is revoked: the agent logs the reason when it stops.";
            return;
        }
        if (InputText.StorableProblem(revokeReason) is { } problem)
        {
            message = "The reason: " + problem;
            return;
        }
        await Registry.RevokeAsync(AgentId, revokeReason.Trim(), await ActorAsync(), Aborted);
        message = null;
        await LoadAsync();
    }
}
