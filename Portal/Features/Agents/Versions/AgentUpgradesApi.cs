using System.Security.Claims;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;


namespace Cogrion.Portal.Features.Agents.Versions;

/// <summary>An upgrade accepted: the command that carries it, and the image the agent moves to.</summary>
public sealed record AgentUpgradeResponse(Guid CommandId, string Image, string Version);

/// <summary>
/// Agent upgrades by API, with the page button's rules: a tenant admin upgrades the agents of their
/// tenant (<c>/api/v1/tenants/{tenant}/agents/{agentId}/upgrade</c>; another tenant's agent is a 404),
/// a platform admin any agent (<c>/api/v1/agents/{agentId}/upgrade</c>). 202 with the command to follow.
/// </summary>
public static class AgentUpgradesApi
{
    public static IEndpointRouteBuilder MapAgentUpgradesApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/tenants/{tenant}/agents/{agentId:guid}/upgrade", ForTenantAsync).RequireTenantRole(TenantRole.Admin);
        endpoints.MapPost("/api/v1/agents/{agentId:guid}/upgrade", ForPlatformAsync).RequireAuthorization(PortalPolicies.PlatformAdmin);
        return endpoints;
    }

    private static async Task<IResult> ForTenantAsync(Guid agentId, TenantContext context, ClaimsPrincipal user, AgentUpgrades upgrades,
        CancellationToken cancellationToken) =>
        Answer(await upgrades.RequestAsync(context.TenantId, agentId, user.AsActor(), cancellationToken));

    private static async Task<IResult> ForPlatformAsync(Guid agentId, ClaimsPrincipal user, AgentUpgrades upgrades,
        CancellationToken cancellationToken) =>
        Answer(await upgrades.RequestAsync(null, agentId, user.AsActor(), cancellationToken));

    private static IResult Answer(UpgradeRequest request) => request.Refusal switch
    {
        UpgradeRefusal.None
            => TypedResults.Accepted((string?)null, new AgentUpgradeResponse(request.CommandId!.Value, request.Image, request.Version)),
        UpgradeRefusal.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such agent."),
        UpgradeRefusal.NotActive => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The agent is not active.",
            detail: "Only an active (registered, not revoked or uninstalled) agent can be upgraded."),
        _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The agent already runs the current version.",
            detail: $"It runs {request.Version}, the Portal's current agent version ({request.Image})."),
    };
}
