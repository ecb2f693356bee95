using System.Security.Claims;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Features.Tenants.Invitations;
using Cogrion.Portal.Features.Tenants.Members;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Tenants.Api;

public sealed record CreateTenantRequest(string? Name, string? Slug, string? Domain);
public sealed record UpdateTenantRequest(string? Name, string? Domain);
public sealed record ChangeRoleRequest(string? Role);
public sealed record InviteRequest(string? Email, string? Role);

public sealed record TenantResponse(Guid Id, Guid? ParentId, string Slug, string Name, string Domain, DateTimeOffset CreatedAt)
{
    public static TenantResponse From(Tenant t) => new(t.Id, t.ParentId, t.Slug, t.Name, t.Domain, t.CreatedAt);
}

public sealed record TenantWithRoleResponse(Guid Id, string Slug, string Name, string Domain, string Role);
public sealed record TenantNodeResponse(Guid Id, Guid? ParentId, string Slug, string Name, string Domain, int Depth);
public sealed record MemberResponse(Guid UserId, string Username, string? Email, string? DisplayName, string Role, DateTimeOffset JoinedAt)
{
    public static MemberResponse From(Member m) => new(m.UserId, m.Username, m.Email, m.DisplayName, m.Role.ToText(), m.JoinedAt);
}
public sealed record InvitationResponse(Guid Id, string Email, string Role, string Status, DateTimeOffset SentAt, DateTimeOffset ExpiresAt,
    string? InvitedBy, string? AcceptedBy);

/// <summary>
/// The tenants JSON API, <c>/api/v1/tenants/...</c>. Routes with <c>{tenant}</c> declare their least
/// role with <see cref="TenantRoute.RequireTenantRole"/>; <see cref="TenantRouteGuard"/> has checked it
/// and hands the handler a <see cref="TenantContext"/> before the handler runs. Errors are problem+json;
/// bad input is a <c>ValidationProblem</c> with one message per field.
/// </summary>
public static class TenantsApi
{
    public static IEndpointRouteBuilder MapTenantsApi(this IEndpointRouteBuilder endpoints)
    {
        var tenants = endpoints.MapGroup("/api/v1/tenants").WithTags("Tenants");
        tenants.MapGet("", ListMineAsync).WithMetadata(new UserScopedAttribute()).Produces<TenantWithRoleResponse[]>();
        tenants.MapPost("", CreateRootAsync).WithMetadata(new UserScopedAttribute()).Produces<TenantResponse>(StatusCodes.Status201Created);

        var tenant = tenants.MapGroup("/{tenant}");
        tenant.MapGet("", (TenantContext context) => TypedResults.Ok(TenantResponse.From(context.Tenant))).RequireTenantRole(TenantRole.Viewer);
        tenant.MapPatch("", UpdateAsync).RequireTenantRole(TenantRole.Admin).Produces<TenantResponse>();
        tenant.MapGet("/children", ListSubtreeAsync).RequireTenantRole(TenantRole.Viewer).Produces<TenantNodeResponse[]>();
        tenant.MapPost("/children", CreateChildAsync).RequireTenantRole(TenantRole.Admin).Produces<TenantResponse>(StatusCodes.Status201Created);
        tenant.MapGet("/members", ListMembersAsync).RequireTenantRole(TenantRole.Viewer).Produces<MemberResponse[]>();
        tenant.MapPut("/members/{userId:guid}/role", ChangeRoleAsync).RequireTenantRole(TenantRole.Admin).Produces<MemberResponse>();
        tenant.MapDelete("/members/{userId:guid}", RemoveMemberAsync).RequireTenantRole(TenantRole.Admin).Produces(StatusCodes.Status204NoContent);
        tenant.MapGet("/invitations", ListInvitationsAsync).RequireTenantRole(TenantRole.Admin).Produces<InvitationResponse[]>();
        tenant.MapPost("/invitations", InviteAsync).RequireTenantRole(TenantRole.Admin).Produces<InvitationResponse>(StatusCodes.Status201Created);
        tenant.MapPost("/invitations/{invitationId:guid}/resend", ResendAsync).RequireTenantRole(TenantRole.Admin).Produces<InvitationResponse>();
        tenant.MapDelete("/invitations/{invitationId:guid}", RevokeAsync).RequireTenantRole(TenantRole.Admin).Produces<InvitationResponse>();
        return endpoints;
    }

    private static async Task<IResult> ListMineAsync(ClaimsPrincipal user, TenantAccess access, CancellationToken cancellationToken) =>
        TypedResults.Ok((await access.ListEntryPointsAsync(user, cancellationToken))
            .Select(t => new TenantWithRoleResponse(t.Id, t.Slug, t.Name, t.Domain, t.Role.ToText())));

    private static async Task<IResult> CreateRootAsync(CreateTenantRequest request, ClaimsPrincipal user, TenantStore store,
        CancellationToken cancellationToken)
    {
        var result = await store.CreateAsync(new NewTenant(request.Name, request.Slug, request.Domain), user.GetUserId()!.Value, user.GetUsername()
            ?? "", cancellationToken);
        return ToResult(result, tenant => TypedResults.Created($"/api/v1/tenants/{tenant.Slug}", TenantResponse.From(tenant)));
    }

    private static async Task<IResult> UpdateAsync(UpdateTenantRequest request, TenantContext context, ClaimsPrincipal user, TenantStore store,
        CancellationToken cancellationToken) =>
        ToResult(await store.UpdateAsync(context.TenantId, request.Name, request.Domain, user.AsActor(), cancellationToken),
            tenant => TypedResults.Ok(TenantResponse.From(tenant)));

    private static async Task<IResult> ListSubtreeAsync(TenantContext context, TenantStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok((await store.GetSubtreeAsync(context.TenantId, cancellationToken))
            .Select(n => new TenantNodeResponse(n.Id, n.ParentId, n.Slug, n.Name, n.Domain, n.Depth)));

    private static async Task<IResult> CreateChildAsync(CreateTenantRequest request, TenantContext context, ClaimsPrincipal user, TenantStore store,
        CancellationToken cancellationToken)
    {
        var result = await store.CreateAsync(new NewTenant(request.Name, request.Slug, request.Domain, context.TenantId), user.GetUserId()!.Value,
            user.GetUsername() ?? "", cancellationToken);
        return ToResult(result, tenant => TypedResults.Created($"/api/v1/tenants/{tenant.Slug}", TenantResponse.From(tenant)));
    }

    private static async Task<IResult> ListMembersAsync(TenantContext context, MembershipStore members, CancellationToken cancellationToken) =>
        TypedResults.Ok((await members.ListAsync(context.TenantId, cancellationToken)).Select(MemberResponse.From));

    private static async Task<IResult> ChangeRoleAsync(Guid userId, ChangeRoleRequest request, TenantContext context, ClaimsPrincipal user,
        MembershipStore members, CancellationToken cancellationToken)
    {
        if (!TenantRoles.TryParse(request.Role, out var role))
            return TypedResults.ValidationProblem(FieldErrors.Single("role", TenantRoles.ParseError).ToDictionary());
        return ToResult(await members.ChangeRoleAsync(context.TenantId, userId, role, user.AsActor(), cancellationToken),
            member => TypedResults.Ok(MemberResponse.From(member)), "No such member in this tenant.");
    }

    private static async Task<IResult> RemoveMemberAsync(Guid userId, TenantContext context, ClaimsPrincipal user, MembershipStore members,
        CancellationToken cancellationToken) =>
        ToResult(await members.RemoveAsync(context.TenantId, userId, user.AsActor(), cancellationToken), _ => TypedResults.NoContent(),
            "No such member in this tenant.");

    private static async Task<IResult> ListInvitationsAsync(TenantContext context, InvitationStore invitations, TimeProvider time,
        CancellationToken cancellationToken) =>
        TypedResults.Ok((await invitations.ListAsync(context.TenantId, cancellationToken)).Select(i => ToResponse(i, time)));

    private static async Task<IResult> InviteAsync(InviteRequest request, TenantContext context, ClaimsPrincipal user, InvitationStore invitations,
        TimeProvider time, CancellationToken cancellationToken) =>
        ToResult(await invitations.InviteAsync(context.TenantId, request.Email, request.Role, user.GetUserId()!.Value, user.AsActor(),
            cancellationToken),
            invitation => TypedResults.Created($"/api/v1/tenants/{context.Slug}/invitations/{invitation.Id}", ToResponse(invitation, time)));

    private static async Task<IResult> ResendAsync(Guid invitationId, TenantContext context, ClaimsPrincipal user, InvitationStore invitations,
        TimeProvider time, CancellationToken cancellationToken) =>
        ToResult(await invitations.ResendAsync(context.TenantId, invitationId, user.AsActor(), cancellationToken),
            invitation => TypedResults.Ok(ToResponse(invitation, time)), "No such invitation in this tenant.");

    private static async Task<IResult> RevokeAsync(Guid invitationId, TenantContext context, ClaimsPrincipal user, InvitationStore invitations,
        TimeProvider time, CancellationToken cancellationToken) =>
        ToResult(await invitations.RevokeAsync(context.TenantId, invitationId, user.AsActor(), cancellationToken),
            invitation => TypedResults.Ok(ToResponse(invitation, time)), "No such invitation in this tenant.");

    private static InvitationResponse ToResponse(Invitation i, TimeProvider time) =>
        new(i.Id, i.Email, i.Role.ToText(), i.StatusAt(time.GetUtcNow()).ToDbText(), i.SentAt, i.ExpiresAt, i.InvitedBy, i.AcceptedBy);


    private static IResult ToResult<T>(CommandResult<T> result, Func<T, IResult> ok, string notFound = "Not found in this tenant.") =>
        result.IsNotFound ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: notFound)
        : !result.Errors.IsEmpty ? TypedResults.ValidationProblem(result.Errors.ToDictionary())
        : ok(result.Value!);
}
