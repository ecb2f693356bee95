using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>
/// Where a run gets the agent's one-time bootstrap token. One real implementation (the agents
/// feature's enrollment); the seam lets a test see the token a run used and prove it is stored nowhere.
/// </summary>
public interface IBootstrapTokenSource
{
    Task<string> MintAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken);
}

public sealed class EnrollmentBootstrapTokens(AgentEnrollment enrollment) : IBootstrapTokenSource
{
    public async Task<string> MintAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken) =>
        (await enrollment.CreateBootstrapTokenAsync(tenantId, workspaceId, Actor.System("provisioning"), cancellationToken)).Token;
}
