using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.AgentReports;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>Takes the apps' part of every heartbeat (release conditions, revisions, workload readiness) into <see cref="WorkspaceApps"/>.</summary>
public sealed class AppReportIngest(IServiceProvider services) : IAgentReportObserver
{
    // Resolved when a heartbeat comes, not at construction: WorkspaceApps needs the AgentRegistry that holds this observer.
    public Task OnHeartbeatAsync(Guid agentId, Guid tenantId, Guid workspaceId, ClusterInventory inventory, CancellationToken cancellationToken) =>
        services.GetRequiredService<WorkspaceApps>().IngestAsync(agentId, tenantId, workspaceId, inventory, cancellationToken);
}
