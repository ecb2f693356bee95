using System.Security.Claims;
using System.Text;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Authentication;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Secrets;

/// <summary>A secret as the API shows it: metadata only. No endpoint returns a value, sealed or not.</summary>
public sealed record SecretResponse(
    Guid Id, string Namespace, string Name, IReadOnlyList<string> Keys, long Version, string Status, string? StatusMessage,
    string UpdatedBy, DateTimeOffset UpdatedAt, DateTimeOffset CreatedAt)
{
    public static SecretResponse From(WorkspaceSecret s) => new(s.Id, s.Namespace, s.Name, s.Keys, s.Version, s.Status.ToDbText(), s.StatusMessage,
        s.UpdatedBy, s.UpdatedAt, s.CreatedAt);
}

/// <summary>
/// <c>/api/v1/tenants/{tenant}/workspaces/{name}/secrets</c> for people (metadata, the encryption key offer,
/// sealed submissions, deletion), and the two agent protocol routes (publish a statement, fetch a delivery).
/// </summary>
public static class SecretsApi
{
    public static IEndpointRouteBuilder MapSecretsApi(this IEndpointRouteBuilder endpoints)
    {
        var secrets = endpoints.MapGroup("/api/v1/tenants/{tenant}/workspaces/{name}/secrets");
        secrets.MapGet("", ListAsync).RequireTenantRole(TenantRole.Viewer);
        secrets.MapGet("/encryption-key", OfferAsync).RequireTenantRole(TenantRole.Viewer);
        secrets.MapGet("/{id:guid}", GetAsync).RequireTenantRole(TenantRole.Viewer);
        secrets.MapPost("", SubmitAsync).RequireTenantRole(TenantRole.Operator);
        secrets.MapDelete("/{id:guid}", DeleteAsync).RequireTenantRole(TenantRole.Operator);

        var agent = endpoints.MapGroup(ProtocolV1.Prefix)
            .RequireAuthorization(AgentBearerHandler.PolicyName)
            .RequireRateLimiting(AgentRateLimits.Agent);
        agent.MapPut("/encryption-key", PublishAsync);
        agent.MapGet("/secret-deliveries/{deliveryId:guid}", DeliveryAsync);
        return endpoints;
    }

    private static IResult NoWorkspace() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound,
        title: "No such workspace in this tenant.");

    private static IResult NoSecret() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such secret in this workspace.");

    private static async Task<IResult> ListAsync(string name, TenantContext context, WorkspaceSecretsDirectory workspaces, SecretRelay relay,
        CancellationToken cancellationToken) =>
        await workspaces.FindAsync(context.TenantId, name, cancellationToken) is { } workspaceId
            ? TypedResults.Ok((await relay.ListAsync(context.TenantId, workspaceId, cancellationToken)).Select(SecretResponse.From))
            : NoWorkspace();

    private static async Task<IResult> GetAsync(string name, Guid id, TenantContext context, WorkspaceSecretsDirectory workspaces, SecretRelay relay,
        CancellationToken cancellationToken)
    {
        if (await workspaces.FindAsync(context.TenantId, name, cancellationToken) is not { } workspaceId) return NoWorkspace();
        return await relay.GetAsync(context.TenantId, workspaceId, id,
            cancellationToken) is { } secret ? TypedResults.Ok(SecretResponse.From(secret)) : NoSecret();
    }

    private static async Task<IResult> OfferAsync(string name, TenantContext context, WorkspaceSecretsDirectory workspaces,
        EncryptionKeyDirectory keys,
        CancellationToken cancellationToken)
    {
        if (await workspaces.FindAsync(context.TenantId, name, cancellationToken) is not { } workspaceId) return NoWorkspace();
        return await keys.OfferAsync(context.TenantId, workspaceId, cancellationToken) is { } offer
            ? TypedResults.Ok(offer)
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "No encryption key yet.",
                detail: "The workspace's Cluster Agent has not published an encryption key: it is not registered, or not running this version.");
    }

    private static async Task<IResult> SubmitAsync(string name, SealedSecret? request, TenantContext context, ClaimsPrincipal user,
        WorkspaceSecretsDirectory workspaces, SecretRelay relay, CancellationToken cancellationToken)
    {
        if (await workspaces.FindAsync(context.TenantId, name, cancellationToken) is not { } workspaceId) return NoWorkspace();
        var result = await relay.SubmitAsync(context.TenantId, workspaceId, request, user.AsActor(), cancellationToken);
        if (!result.Errors.IsEmpty) return TypedResults.ValidationProblem(result.Errors.ToDictionary());
        return TypedResults.Accepted($"/api/v1/tenants/{context.Slug}/workspaces/{name}/secrets/{result.Value!.Id}",
            SecretResponse.From(result.Value));
    }

    private static async Task<IResult> DeleteAsync(string name, Guid id, TenantContext context, ClaimsPrincipal user,
        WorkspaceSecretsDirectory workspaces,
        SecretRelay relay, CancellationToken cancellationToken)
    {
        if (await workspaces.FindAsync(context.TenantId, name, cancellationToken) is not { } workspaceId) return NoWorkspace();
        var result = await relay.DeleteAsync(context.TenantId, workspaceId, id, user.AsActor(), cancellationToken);
        if (result.IsNotFound) return NoSecret();
        if (!result.Errors.IsEmpty) return TypedResults.ValidationProblem(result.Errors.ToDictionary());
        return TypedResults.Accepted((string?)null, SecretResponse.From(result.Value!));
    }

    private static async Task<IResult> PublishAsync(EncryptionKeyPublication publication, HttpContext http, EncryptionKeyDirectory keys,
        CancellationToken cancellationToken)
    {
        var refusal = await keys.PublishAsync(AgentIdentity.FromPrincipal(http.User)!, publication.Statement, cancellationToken);
        return refusal is null
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The encryption key statement was refused.", detail: refusal);
    }

    private static async Task<IResult> DeliveryAsync(Guid deliveryId, HttpContext http, SecretRelay relay, CancellationToken cancellationToken)
    {
        var agent = AgentIdentity.FromPrincipal(http.User)!;
        return await relay.SealedForAgentAsync(agent.AgentId, deliveryId, cancellationToken) is { } sealedSecret
            ? TypedResults.Text(sealedSecret, "application/json", Encoding.UTF8)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found.",
                detail: "This agent has no such delivery, or it has expired.");
    }
}

/// <summary>
/// A workspace's id from its name within a tenant. Read here rather than through the Workspaces feature,
/// which links to the Secrets page: the two stay independent (DependencyTests).
/// </summary>
public sealed class WorkspaceSecretsDirectory(NpgsqlDataSource dataSource)
{
    public async Task<Guid?> FindAsync(Guid tenantId, string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition(
            "select id from workspaces where tenant_id = @tenantId and name = @name and status <> 'destroyed'",
            new { tenantId, name }, cancellationToken: cancellationToken));
    }
}
