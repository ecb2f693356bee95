using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Npgsql;

namespace Cogrion.Portal.Features.Tenants.Access;

/// <summary>
/// The one place that answers "what is this person's role in tenant X?". Every tenant page and
/// endpoint asks it (through <see cref="TenantRouteGuard"/> and <see cref="TenantPage"/>), and so
/// should every later feature: resolve the context once, then pass <see cref="TenantContext.TenantId"/>
/// to every query.
/// <para>
/// The role is the strongest of the person's memberships of the tenant and of its ancestors
/// (access flows down the tree, never up). A platform admin without a membership reads the tenant
/// as a viewer, and each such access is written to the tenant's own audit trail.
/// </para>
/// One visit is audited once (<see cref="PlatformAdminVisit"/>), not once per request, circuit or page.
/// </summary>
public sealed class TenantAccess(NpgsqlDataSource dataSource, IAuthorizationService authorization, AuditLog audit, TimeProvider time)
{
    /// <summary>
    /// How long one platform-admin visit of a tenant lasts in the audit trail: accesses by the same
    /// admin, to the same tenant, in the same sign-in session within this time are one visit.
    /// </summary>
    public static readonly TimeSpan PlatformAdminVisit = TimeSpan.FromMinutes(15);

    private const string PlatformAdminAccessed = "tenant.accessed_by_platform_admin";

    /// <summary>Tenants whose visit this request or circuit already saw recorded (saves a query per navigation).</summary>
    private readonly Dictionary<Guid, DateTimeOffset> visitsRecorded = [];

    private sealed record Row(Guid Id, Guid? ParentId, string Slug, string Name, string Domain, DateTimeOffset CreatedAt, string? OwnRole,
        string? InheritedRole);

    /// <summary>The person's context in the tenant with this slug, or null when they cannot see it (or it does not exist).</summary>
    public Task<TenantContext?> ResolveAsync(ClaimsPrincipal user, string slug, string resource, CancellationToken cancellationToken) =>
        // A circuit navigates without an HTTP request, so the route value reaches here unchecked.
        TenantRules.CanExist(slug)
            ? ResolveAsync(user, "t.slug = @key", TenantRules.Normalise(slug), resource, cancellationToken)
            : Task.FromResult<TenantContext?>(null);

    /// <summary>The same by tenant id, for features whose objects carry a tenant id (workspaces, runs, agents).</summary>
    public Task<TenantContext?> ResolveAsync(ClaimsPrincipal user, Guid tenantId, string resource, CancellationToken cancellationToken) =>
        ResolveAsync(user, "t.id = @key", tenantId, resource, cancellationToken);

    /// <summary>Resolves and compares with the least role a page or action takes.</summary>
    public async Task<TenantAccessDecision> CheckAsync(ClaimsPrincipal user, string slug, TenantRole minimum, string resource,
        CancellationToken cancellationToken)
    {
        var context = await ResolveAsync(user, slug, resource, cancellationToken);
        if (context is null) return new TenantAccessDecision.NotFound();
        return context.Can(minimum) ? new TenantAccessDecision.Granted(context) : new TenantAccessDecision.Forbidden(context);
    }

    /// <summary>The tenants a person reaches directly (their memberships) with their role; platform admins additionally get every root
    /// tenant.</summary>
    public async Task<IReadOnlyList<TenantSummary>> ListEntryPointsAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var platformAdmin = await IsPlatformAdminAsync(user);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(Guid Id, string Slug, string Name, string Domain, string Role)>(new CommandDefinition("""
            select t.id, t.slug, t.name, t.domain, m.role::text as role
            from tenant_memberships m join tenants t on t.id = m.tenant_id
            where m.user_id = @userId
            union all
            select t.id, t.slug, t.name, t.domain, 'viewer'
            from tenants t
            where @platformAdmin and t.parent_id is null
              and not exists (select 1 from tenant_memberships m where m.tenant_id = t.id and m.user_id = @userId)
            order by name, slug
            """, new { userId, platformAdmin }, cancellationToken: cancellationToken));
        return rows.Select(r => new TenantSummary(r.Id, r.Slug, r.Name, r.Domain, TenantRoles.Parse(r.Role))).ToList();
    }

    /// <summary>Remembers the tenant a member last worked in, for where /dashboard sends them.</summary>
    public async Task RememberLastTenantAsync(TenantContext context, CancellationToken cancellationToken)
    {
        if (context.Source == TenantAccessSource.PlatformAdmin || context.UserId is not { } userId) return;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            update users set last_tenant_id = @tenantId where id = @userId and last_tenant_id is distinct from @tenantId
            """, new { tenantId = context.TenantId, userId }, cancellationToken: cancellationToken));
    }

    /// <summary>Where /dashboard sends a person: the tenant they used last if they still reach it, else their first tenant.</summary>
    public async Task<string?> FindHomeTenantSlugAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        if (userId is null) return null;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var last = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "select t.slug from users u join tenants t on t.id = u.last_tenant_id where u.id = @userId", new { userId },
                cancellationToken: cancellationToken));
        if (last is not null && await ResolveAsync(user, last, "/dashboard", cancellationToken) is { Source: not TenantAccessSource.PlatformAdmin })
            return last;
        return await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition("""
            select t.slug from tenant_memberships m join tenants t on t.id = m.tenant_id
            where m.user_id = @userId
            order by m.role desc, t.name, t.slug
            limit 1
            """, new { userId }, cancellationToken: cancellationToken));
    }

    public async Task<bool> IsPlatformAdminAsync(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && (await authorization.AuthorizeAsync(user, PortalPolicies.PlatformAdmin)).Succeeded;

    private async Task<TenantContext?> ResolveAsync(ClaimsPrincipal user, string match, object key, string resource,
        CancellationToken cancellationToken)
    {
        if (user.Identity?.IsAuthenticated != true) return null;
        var userId = user.GetUserId();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Walk from the tenant up to its root and take the strongest role the person holds on that
        // chain. Only ancestors are walked: a membership further down (a child) never grants anything here.
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            with recursive target as (
                select t.id, t.parent_id, t.slug, t.name, t.domain, t.created_at from tenants t where {match}
            ), ancestors as (
                select parent_id as id from target where parent_id is not null
                union all
                select t.parent_id from tenants t join ancestors a on t.id = a.id where t.parent_id is not null
            )
            select target.*,
                   (select m.role::text from tenant_memberships m
                    where m.tenant_id = target.id and m.user_id = @userId) as own_role,
                   (select max(m.role)::text from tenant_memberships m
                    where m.tenant_id in (select id from ancestors) and m.user_id = @userId) as inherited_role
            from target
            """, new { key, userId }, cancellationToken: cancellationToken));
        if (row is null) return null;

        var tenant = new Tenant(row.Id, row.ParentId, row.Slug, row.Name, row.Domain, row.CreatedAt);
        TenantRole? own = row.OwnRole is null ? null : TenantRoles.Parse(row.OwnRole);
        TenantRole? inherited = row.InheritedRole is null ? null : TenantRoles.Parse(row.InheritedRole);
        if (own is not null || inherited is not null)
        {
            var source = own is not null && (inherited is null || own >= inherited) ? TenantAccessSource.Member : TenantAccessSource.Inherited;
            return new TenantContext(tenant, (TenantRole)Math.Max((int)(own ?? 0), (int)(inherited ?? 0)), source, userId);
        }
        if (!await IsPlatformAdminAsync(user)) return null;

        await RecordPlatformAdminVisitAsync(user, tenant, resource, cancellationToken);
        return new TenantContext(tenant, TenantRole.Viewer, TenantAccessSource.PlatformAdmin, userId);
    }

    /// <summary>
    /// Writes <c>tenant.accessed_by_platform_admin</c> once per visit. A page visit resolves the
    /// tenant in at least two scopes (the prerendering request, then the interactive circuit), maybe on
    /// two replicas, so the database decides: under a lock for this admin and tenant, the event is
    /// written only if the visit has none yet. The event names the first page of the visit.
    /// </summary>
    private async Task RecordPlatformAdminVisitAsync(ClaimsPrincipal user, Tenant tenant, string resource, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (visitsRecorded.TryGetValue(tenant.Id, out var confirmed) && now - confirmed < PlatformAdminVisit) return;

        var actor = user.AsActor();
        var session = SessionKey(user);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Serialises this admin's accesses to this tenant (across requests, circuits and replicas), so
        // that "is there one already?" and the insert are one step.
        await connection.ExecuteAsync(new CommandDefinition(
            "select pg_advisory_xact_lock(hashtextextended('platform-admin-visit:' || @TenantId::text || ':' || @ActorId, 0))",
            new { TenantId = tenant.Id, ActorId = actor.Id }, transaction, cancellationToken: cancellationToken));
        var recorded = await connection.ExecuteScalarAsync<DateTimeOffset?>(new CommandDefinition("""
            select max(occurred_at) from audit_events
            where tenant_id = @TenantId and occurred_at > @Since
              and action = @Action and actor_kind = 'user' and actor_id = @ActorId
              and details->>'session' is not distinct from @Session
            """, new
        {
            TenantId = tenant.Id,
            Since = now - PlatformAdminVisit,
            Action = PlatformAdminAccessed,
            ActorId = actor.Id,
            Session = session
        },
            transaction, cancellationToken: cancellationToken));
        if (recorded is null)
        {
            await audit.RecordAsync(new AuditEntry(actor, PlatformAdminAccessed, tenant.Id, "tenant", tenant.Id.ToString(),
                new { resource, session }), transaction, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        // The visit runs from its event: this scope asks again once that is a window old.
        visitsRecorded[tenant.Id] = recorded ?? now;
    }

    /// <summary>
    /// The sign-in session, as a short digest of the identity provider's <c>sid</c>: enough to tell
    /// two sign-ins apart in the trail without storing a session identifier. Null without one.
    /// </summary>
    private static string? SessionKey(ClaimsPrincipal user) =>
        user.FindFirstValue(PortalClaims.SessionId) is { Length: > 0 } sid
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sid)))[..16]
            : null;
}
