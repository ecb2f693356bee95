using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents.Versions;

public enum UpgradeRefusal { None, NotFound, NotActive, AlreadyCurrent }

/// <summary>An upgrade asked for: the command that carries it, or why there is none.</summary>
public sealed record UpgradeRequest(UpgradeRefusal Refusal, Guid? CommandId, string Image, string Version)
{
    public bool Accepted => Refusal == UpgradeRefusal.None;
}

/// <summary>
/// Upgrades an agent to the Portal's current agent version, by command (agent.upgrade): the agent
/// patches its own Deployment's image, keeps the old pod until the new one has exchanged a token and
/// polled, and rolls back by itself if the new one is not ready in time (docs/agent-protocol.md).
/// The caller's access is checked before: a platform admin may upgrade any agent, a tenant admin the
/// agents of their tenant; another tenant's agent is "not found" (<paramref name="tenantId"/> scopes it).
/// The request and its outcome are audited (the enqueue, and the result as agent.upgraded / agent.upgrade_failed).
/// </summary>
public sealed class AgentUpgrades(AgentRegistry registry, AgentCommandQueue commands, AgentRelease release, IOptions<AgentApiOptions> options)
{
    public async Task<UpgradeRequest> RequestAsync(Guid? tenantId, Guid agentId, Actor actor, CancellationToken cancellationToken)
    {
        var target = release.Current;
        var agent = await registry.GetAsync(agentId, cancellationToken);
        if (agent is null || (tenantId is { } tenant && agent.TenantId != tenant)) return new UpgradeRequest(UpgradeRefusal.NotFound, null,
            target.ToString(), target.Version);
        if (agent.Status != "active") return new UpgradeRequest(UpgradeRefusal.NotActive, null, target.ToString(), target.Version);
        if (agent.AgentVersion == target.Version) return new UpgradeRequest(UpgradeRefusal.AlreadyCurrent, null, target.ToString(), target.Version);
        var payload = new JsonObject
        {
            ["image"] = target.ToString(),
            ["version"] = target.Version,
            ["readyWithinSeconds"] = (int)options.Value.UpgradeReadyWithin.TotalSeconds,
        };
        // One upgrade per agent and target: asking twice (two admins, a double click) is the same command.
        var queued = await commands.EnqueueAsync(new NewAgentCommand(agent.TenantId, agentId, CommandTypes.Upgrade, payload, $"upgrade-{target}"),
            actor, cancellationToken);
        return queued is null
            ? new UpgradeRequest(UpgradeRefusal.NotActive, null, target.ToString(), target.Version)
            : new UpgradeRequest(UpgradeRefusal.None, queued.Id, target.ToString(), target.Version);
    }
}
