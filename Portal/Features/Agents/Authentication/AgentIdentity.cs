using System.Security.Claims;

namespace Cogrion.Portal.Features.Agents;

/// <summary>The agent behind an authenticated agent API call.</summary>
public sealed record AgentIdentity(Guid AgentId, Guid TenantId, Guid WorkspaceId)
{
    public const string AgentIdClaim = "cogrion:agent_id";
    public const string TenantIdClaim = "cogrion:tenant_id";
    public const string WorkspaceIdClaim = "cogrion:workspace_id";

    public ClaimsPrincipal ToPrincipal(string scheme) => new(new ClaimsIdentity(
    [
        new Claim(AgentIdClaim, AgentId.ToString()),
        new Claim(TenantIdClaim, TenantId.ToString()),
        new Claim(WorkspaceIdClaim, WorkspaceId.ToString()),
        new Claim(ClaimTypes.Name, $"agent:{AgentId}"),
    ], scheme));

    public static AgentIdentity? FromPrincipal(ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(AgentIdClaim), out var agent)
        && Guid.TryParse(principal.FindFirstValue(TenantIdClaim), out var tenant)
        && Guid.TryParse(principal.FindFirstValue(WorkspaceIdClaim), out var workspace)
            ? new AgentIdentity(agent, tenant, workspace)
            : null;
}

/// <summary>Why an agent call was refused, as an RFC 7807 type and a sentence for the agent's log.</summary>
public sealed record AgentRefusal(string Type, string Title, string Detail);
