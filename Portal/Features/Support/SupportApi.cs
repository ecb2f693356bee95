using System.Security.Claims;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Support;

/// <summary>A request as the API shows it.</summary>
public sealed record SupportRequestResponse(
    Guid Id, string Tenant, Guid WorkspaceId, string Workspace, string Requester, string Reason, string? Ticket, string Scope, double DurationHours,
    string Status, DateTimeOffset CreatedAt, DateTimeOffset AnswerBy, DateTimeOffset? NotBefore, DateTimeOffset? NotAfter, string? DecidedBy,
    string? Grant, string? GrantMessage)
{
    public static SupportRequestResponse From(SupportRequest r, DateTimeOffset now) => new(r.Id, r.TenantSlug, r.WorkspaceId, r.WorkspaceName,
        r.RequesterName, r.Reason, r.Ticket, r.Scope.ToDbText(), r.Duration.TotalHours, r.StatusAt(now).ToDbText(), r.CreatedAt, r.AnswerBy,
        r.NotBefore, r.NotAfter, r.DecidedBy, r.Grant?.ToDbText(), r.GrantMessage);
}

/// <summary>POST /api/v1/support/requests.</summary>
public sealed record SupportRequestBody(Guid TenantId, Guid WorkspaceId, string? Reason, string? Ticket, string? Scope, int? DurationHours);

/// <summary>POST …/approve: the grant the approver signed and the passkey's assertion over its challenge.</summary>
public sealed record SupportApprovalBody(SupportGrant Grant, WebAuthnAssertion Assertion);

/// <summary>POST /api/v1/support/requests/{id}/actions.</summary>
public sealed record SupportActionBody(string Action, string? Namespace, string? Kind, string? Name, string? Container, int? TailLines);

/// <summary>
/// Support access over HTTP: the tenant's side under <c>/api/v1/tenants/{tenant}/support</c> (admins: list, read, approve,
/// deny, revoke, the timeline; another tenant's id is a 404) and the requester's under <c>/api/v1/support</c> (platform
/// admins: ask, list and read their own requests, and act under their grants).
/// </summary>
public static class SupportApi
{
    public static IEndpointRouteBuilder MapSupportApi(this IEndpointRouteBuilder endpoints)
    {
        var tenant = endpoints.MapGroup("/api/v1/tenants/{tenant}/support");
        tenant.MapGet("/requests", ListAsync).RequireTenantRole(TenantRole.Admin);
        tenant.MapGet("/requests/{id:guid}", GetAsync).RequireTenantRole(TenantRole.Admin);
        tenant.MapPost("/requests/{id:guid}/approve", ApproveAsync).RequireTenantRole(TenantRole.Admin);
        tenant.MapPost("/requests/{id:guid}/deny", DenyAsync).RequireTenantRole(TenantRole.Admin);
        tenant.MapPost("/requests/{id:guid}/revoke", RevokeAsync).RequireTenantRole(TenantRole.Admin);
        tenant.MapGet("/timeline", TimelineAsync).RequireTenantRole(TenantRole.Admin);

        var mine = endpoints.MapGroup("/api/v1/support").RequireAuthorization(PortalPolicies.PlatformAdmin);
        mine.MapGet("/requests", MineAsync);
        mine.MapGet("/requests/{id:guid}", MineOneAsync);
        mine.MapPost("/requests", CreateAsync);
        mine.MapPost("/requests/{id:guid}/actions", ActAsync);
        return endpoints;
    }

    private static IResult NoRequest() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such support request.");

    private static IResult Result(CommandResult<SupportRequest> result, TimeProvider time) =>
        result.IsNotFound ? NoRequest()
        : !result.Errors.IsEmpty ? TypedResults.ValidationProblem(result.Errors.ToDictionary())
        : TypedResults.Ok(SupportRequestResponse.From(result.Value!, time.GetUtcNow()));

    private static async Task<IResult> ListAsync(TenantContext context, SupportRequests requests, TimeProvider time,
        CancellationToken cancellationToken) =>
        TypedResults.Ok((await requests.ListForTenantAsync(context.TenantId, cancellationToken))
            .Select(r => SupportRequestResponse.From(r, time.GetUtcNow())));

    private static async Task<IResult> GetAsync(Guid id, TenantContext context, SupportRequests requests, TimeProvider time,
        CancellationToken cancellationToken) =>
        await requests.GetForTenantAsync(context.TenantId, id, cancellationToken) is { } r
            ? TypedResults.Ok(SupportRequestResponse.From(r, time.GetUtcNow()))
            : NoRequest();

    private static async Task<IResult> ApproveAsync(Guid id, SupportApprovalBody body, TenantContext context, ClaimsPrincipal user,
        SupportRequests requests, TimeProvider time, CancellationToken cancellationToken)
    {
        if (context.Source == TenantAccessSource.PlatformAdmin || context.UserId is not { } approverId)
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Only the tenant's own admins approve support access.");
        return Result(await requests.ApproveAsync(context.TenantId, id, body.Grant, body.Assertion, approverId, user.AsActor(), cancellationToken),
            time);
    }

    private static async Task<IResult> DenyAsync(Guid id, TenantContext context, ClaimsPrincipal user, SupportRequests requests, TimeProvider time,
        CancellationToken cancellationToken) =>
        Result(await requests.DenyAsync(context.TenantId, id, user.AsActor(), cancellationToken), time);

    private static async Task<IResult> RevokeAsync(Guid id, TenantContext context, ClaimsPrincipal user, SupportRequests requests,
        TimeProvider time, CancellationToken cancellationToken) =>
        Result(await requests.RevokeAsync(context.TenantId, id, user.AsActor(), cancellationToken), time);

    private static async Task<IResult> TimelineAsync(TenantContext context, SupportSessions sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sessions.TimelineAsync(context.TenantId, cancellationToken));

    private static async Task<IResult> MineAsync(ClaimsPrincipal user, SupportRequests requests, TimeProvider time,
        CancellationToken cancellationToken) =>
        user.GetUserId() is { } userId
            ? TypedResults.Ok((await requests.ListForRequesterAsync(userId, cancellationToken)).Select(r => SupportRequestResponse.From(r,
                time.GetUtcNow())))
            : TypedResults.Ok(Array.Empty<SupportRequestResponse>());

    private static async Task<IResult> MineOneAsync(Guid id, ClaimsPrincipal user, SupportRequests requests, TimeProvider time,
        CancellationToken cancellationToken) =>
        user.GetUserId() is { } userId && await requests.GetForRequesterAsync(userId, id, cancellationToken) is { } r
            ? TypedResults.Ok(SupportRequestResponse.From(r, time.GetUtcNow()))
            : NoRequest();

    private static async Task<IResult> CreateAsync(SupportRequestBody body, ClaimsPrincipal user, SupportRequests requests, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (user.GetUserId() is not { } userId) return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "No user.");
        if (!EnumText.TryParse<SupportScope>(body.Scope ?? SupportScopes.Status, out var scope))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["scope"] = ["Use status or status+logs."] });
        var result = await requests.RequestAsync(new NewSupportRequest(body.TenantId, body.WorkspaceId, body.Reason, body.Ticket, scope,
            body.DurationHours ?? (int)SupportRequest.DefaultDuration.TotalHours), userId, user.GetUsername() ?? userId.ToString(), user.AsActor(),
            cancellationToken);
        if (!result.Errors.IsEmpty) return TypedResults.ValidationProblem(result.Errors.ToDictionary());
        return TypedResults.Created($"/api/v1/support/requests/{result.Value!.Id}", SupportRequestResponse.From(result.Value, time.GetUtcNow()));
    }

    private static async Task<IResult> ActAsync(Guid id, SupportActionBody body, ClaimsPrincipal user, SupportSessions sessions,
        CancellationToken cancellationToken)
    {
        if (user.GetUserId() is not { } userId) return NoRequest();
        var result = await sessions.AskAsync(userId, id, new SupportQuestion(body.Action, body.Namespace, body.Kind, body.Name, body.Container,
            body.TailLines), user.AsActor(), cancellationToken);
        if (result.IsNotFound) return NoRequest();
        if (!result.Errors.IsEmpty) return TypedResults.ValidationProblem(result.Errors.ToDictionary());
        return TypedResults.Accepted((string?)null, result.Value);
    }
}
