using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Infrastructure.AgentReports;

/// <summary>
/// Told of every heartbeat an agent sends, after it is recorded: how a feature that owns part of the
/// inventory (the workspace's catalog apps) takes in its part without the agents feature knowing it.
/// </summary>
public interface IAgentReportObserver
{
    Task OnHeartbeatAsync(Guid agentId, Guid tenantId, Guid workspaceId, ClusterInventory inventory, CancellationToken cancellationToken);
}
