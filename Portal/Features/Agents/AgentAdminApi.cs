using Cogrion.Portal.Features.Agents.Install;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents;

/// <summary>
/// <c>/api/v1/admin/agents</c>: what the fleet and agent pages' buttons do, for operators who
/// automate. Platform admins only, like the pages; the same rules (<see cref="AgentOperations"/>)
/// and the same audit events.
/// </summary>
public static class AgentAdminApi
{
    public sealed record MintBootstrapTokenRequest(Guid? TenantId, Guid? WorkspaceId);

    /// <summary>The token is in this answer once and stored nowhere (only its hash); the manifest installs the agent with it.</summary>
    public sealed record BootstrapTokenResponse(Guid Id, string Token, Guid TenantId, Guid WorkspaceId, DateTimeOffset ExpiresAt, string Manifest);

    public sealed record SendCommandRequest(string? Type);

    /// <summary><c>Created</c> is false when the same command was already queued (idempotency key).</summary>
    public sealed record SentCommandResponse(Guid Id, Guid AgentId, string Type, bool Created);

    public static IEndpointRouteBuilder MapAgentAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/api/v1/admin/agents").RequireAuthorization(PortalPolicies.PlatformAdmin)
            .WithTags("Agents (platform admins)");
        admin.MapPost("/bootstrap-tokens", MintAsync)
            .WithSummary("Mint a one-time bootstrap token and the install manifest for a workspace's agent");
        admin.MapPost("/{agentId:guid}/commands", SendCommandAsync)
            .WithSummary("Send an operator command (inventory.report, agent.rotate-key) to an agent");
        return endpoints;
    }

    private static async Task<Results<Created<BootstrapTokenResponse>, ValidationProblem, ProblemHttpResult>> MintAsync(
        MintBootstrapTokenRequest request, HttpContext http, AgentOperations operations, InstallManifest manifest, IOptions<AgentApiOptions> options,
            CancellationToken cancellationToken)
    {
        if (request.TenantId is not { } tenantId || request.WorkspaceId is not { } workspaceId)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [request.TenantId is null ? "tenantId" : "workspaceId"] = ["Required: the ids shown on the workspace's page."],
            });
        var result = await operations.MintBootstrapTokenAsync(tenantId, workspaceId, http.User.AsActor(), cancellationToken);
        if (result.IsNotFound)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such workspace in this tenant.");
        var token = result.Value!;
        return TypedResults.Created((string?)null,
            new BootstrapTokenResponse(token.Id, token.Token, token.TenantId, token.WorkspaceId, token.ExpiresAt,
            manifest.Render(token, AgentEndpoints.PortalUrl(http.Request, options.Value))));
    }

    private static async Task<Results<Accepted<SentCommandResponse>, ValidationProblem, ProblemHttpResult>> SendCommandAsync(
        Guid agentId, SendCommandRequest request, HttpContext http, AgentOperations operations, CancellationToken cancellationToken)
    {
        var result = await operations.SendCommandAsync(agentId, request.Type, http.User.AsActor(), cancellationToken);
        if (result.IsNotFound) return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such agent.");
        if (!result.Succeeded) return TypedResults.ValidationProblem(result.Errors.ToDictionary());
        return TypedResults.Accepted((string?)null, new SentCommandResponse(result.Value!.Id, agentId, request.Type!, result.Value.Created));
    }
}
