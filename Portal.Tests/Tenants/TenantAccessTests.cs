using System.Security.Claims;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Tenants;

/// <summary>The one authorization question, "what is this person's role in tenant X?", on real PostgreSQL.</summary>
public sealed class TenantAccessTests : IAsyncLifetime
{
    private TenantWorld world = null!;
    private TestUser parentAdmin = null!;
    private TestUser childAdmin = null!;
    private Tenant acme = null!;
    private Tenant research = null!;
    private Tenant lab = null!;

    public async Task InitializeAsync()
    {
        world = await TenantWorld.CreateAsync();
        parentAdmin = await world.UserAsync("dave");
        childAdmin = await world.UserAsync("carol");
        acme = await world.TenantAsync(parentAdmin, "acme");
        research = await world.TenantAsync(childAdmin, "research", acme);
        lab = await world.TenantAsync(childAdmin, "lab", research);
    }

    public async Task DisposeAsync() => await world.DisposeAsync();

    private Task<TenantContext?> ResolveAsync(TestUser user, Tenant tenant) =>
        world.NewAccess().ResolveAsync(user.ToPrincipal(), tenant.Slug, "/test", CancellationToken.None);

    [Fact]
    public async Task An_admin_of_a_tenant_is_admin_of_every_descendant()
    {
        var inChild = await ResolveAsync(parentAdmin, research);
        var inGrandchild = await ResolveAsync(parentAdmin, lab);

        Assert.Equal((TenantRole.Admin, TenantAccessSource.Inherited), (inChild!.Role, inChild.Source));
        Assert.Equal((TenantRole.Admin, TenantAccessSource.Inherited), (inGrandchild!.Role, inGrandchild.Source));
    }

    [Fact]
    public async Task A_member_of_a_child_sees_nothing_of_the_parent()
    {
        Assert.Null(await ResolveAsync(childAdmin, acme));
        Assert.NotNull(await ResolveAsync(childAdmin, research));
    }

    [Fact]
    public async Task A_viewer_of_a_parent_is_a_viewer_below_it_too()
    {
        var erin = await world.UserAsync("erin");
        await world.GrantAsync(acme, erin, TenantRole.Viewer);

        Assert.Equal(TenantRole.Viewer, (await ResolveAsync(erin, lab))!.Role);
    }

    [Fact]
    public async Task The_stronger_of_an_own_and_an_inherited_role_applies()
    {
        var erin = await world.UserAsync("erin");
        await world.GrantAsync(acme, erin, TenantRole.Viewer);
        await world.GrantAsync(research, erin, TenantRole.Operator);

        Assert.Equal((TenantRole.Operator, TenantAccessSource.Member),
            ((await ResolveAsync(erin, research))!.Role, (await ResolveAsync(erin, research))!.Source));
        Assert.Equal(TenantRole.Operator, (await ResolveAsync(erin, lab))!.Role);
        Assert.Equal(TenantRole.Viewer, (await ResolveAsync(erin, acme))!.Role);
    }

    [Fact]
    public async Task A_stranger_gets_the_same_answer_for_an_existing_tenant_as_for_a_missing_one()
    {
        var stranger = await world.UserAsync("bob");
        var access = world.NewAccess();

        var existing = await access.CheckAsync(stranger.ToPrincipal(), "acme", TenantRole.Viewer, "/t/acme", CancellationToken.None);
        var missing = await access.CheckAsync(stranger.ToPrincipal(), "no-such-tenant", TenantRole.Viewer, "/t/no-such-tenant",
            CancellationToken.None);

        Assert.IsType<TenantAccessDecision.NotFound>(existing);
        Assert.IsType<TenantAccessDecision.NotFound>(missing);
    }

    [Fact]
    public async Task A_role_too_weak_for_the_page_is_forbidden_not_hidden()
    {
        var erin = await world.UserAsync("erin");
        await world.GrantAsync(acme, erin, TenantRole.Viewer);

        var decision = await world.NewAccess().CheckAsync(erin.ToPrincipal(), "acme", TenantRole.Admin, "/t/acme/settings", CancellationToken.None);

        Assert.IsType<TenantAccessDecision.Forbidden>(decision);
    }

    [Fact]
    public async Task A_platform_admin_reads_any_tenant_as_viewer_and_the_access_is_audited_on_that_tenant()
    {
        var admin = await world.UserAsync("admin", platformAdmin: true);

        var context = await world.NewAccess().ResolveAsync(admin.ToPrincipal(), "lab", "/t/lab/members", CancellationToken.None);

        Assert.Equal((TenantRole.Viewer, TenantAccessSource.PlatformAdmin), (context!.Role, context.Source));
        var trail = await world.AuditQueries.SearchAsync(new AuditScope.TenantSubtree(lab.Id),
            new AuditFilter(Action: "tenant.accessed_by_platform_admin"), 0, 10, CancellationToken.None);
        var audited = Assert.Single(trail.Events);
        Assert.Equal((lab.Id, "admin"), (audited.TenantId, audited.ActorName));
        Assert.Contains("/t/lab/members", audited.Details);
        Assert.Null(await world.AuditQueries.FindFirstBrokenLinkAsync(lab.Id, CancellationToken.None));
    }

    [Fact]
    public async Task A_platform_admin_visit_is_audited_once_though_the_prerender_and_the_circuit_both_resolve_it()
    {
        var admin = (await world.UserAsync("admin", platformAdmin: true)).ToPrincipal().InSession("sso-1");
        var prerender = world.NewAccess();
        var circuit = world.NewAccess();

        await prerender.ResolveAsync(admin, "lab", "/t/lab/members", CancellationToken.None);
        await prerender.ResolveAsync(admin, "lab", "/t/lab/members", CancellationToken.None);
        world.Clock.Advance(TimeSpan.FromSeconds(2));
        await circuit.ResolveAsync(admin, "lab", "/t/lab/members", CancellationToken.None);
        world.Clock.Advance(TimeSpan.FromMinutes(3));
        await circuit.ResolveAsync(admin, "lab", "/t/lab/workspaces", CancellationToken.None);
        await world.NewAccess().ResolveAsync(admin, "lab", "/t/lab", CancellationToken.None);

        var audited = Assert.Single(await PlatformAdminAccessesAsync(lab));
        Assert.Contains("/t/lab/members", audited.Details);
    }

    [Fact]
    public async Task A_platform_admin_who_comes_back_after_the_visit_is_over_is_audited_again()
    {
        var admin = (await world.UserAsync("admin", platformAdmin: true)).ToPrincipal().InSession("sso-1");
        var circuit = world.NewAccess();

        await circuit.ResolveAsync(admin, "lab", "/t/lab/members", CancellationToken.None);
        world.Clock.Advance(TenantAccess.PlatformAdminVisit + TimeSpan.FromSeconds(1));
        await circuit.ResolveAsync(admin, "lab", "/t/lab/workspaces", CancellationToken.None);

        Assert.Equal(2, (await PlatformAdminAccessesAsync(lab)).Count);
        Assert.Null(await world.AuditQueries.FindFirstBrokenLinkAsync(lab.Id, CancellationToken.None));
    }

    [Fact]
    public async Task A_new_sign_in_session_of_a_platform_admin_is_a_new_visit()
    {
        var admin = await world.UserAsync("admin", platformAdmin: true);

        await world.NewAccess().ResolveAsync(admin.ToPrincipal().InSession("sso-1"), "lab", "/t/lab", CancellationToken.None);
        await world.NewAccess().ResolveAsync(admin.ToPrincipal().InSession("sso-2"), "lab", "/t/lab", CancellationToken.None);

        var visits = await PlatformAdminAccessesAsync(lab);
        Assert.Equal(2, visits.Count);
        Assert.DoesNotContain(visits, e => e.Details.Contains("sso-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Each_tenant_a_platform_admin_visits_is_audited_on_its_own()
    {
        var admin = (await world.UserAsync("admin", platformAdmin: true)).ToPrincipal();
        var circuit = world.NewAccess();

        await circuit.ResolveAsync(admin, "lab", "/t/lab", CancellationToken.None);
        await circuit.ResolveAsync(admin, "research", "/t/research", CancellationToken.None);

        Assert.Single(await PlatformAdminAccessesAsync(lab));
        Assert.Single(await PlatformAdminAccessesAsync(research));
    }

    private async Task<IReadOnlyList<AuditEvent>> PlatformAdminAccessesAsync(Tenant tenant) =>
        (await world.AuditQueries.SearchAsync(new AuditScope.TenantSubtree(tenant.Id), new AuditFilter(Action: "tenant.accessed_by_platform_admin"),
            0, 10, CancellationToken.None))
            .Events.Where(e => e.TenantId == tenant.Id).ToList();

    [Fact]
    public async Task A_tenant_audit_reader_sees_descendants_events_but_not_the_parents()
    {
        var parentTrail = await world.AuditQueries.SearchAsync(new AuditScope.TenantSubtree(acme.Id), new AuditFilter(), 0, 50,
            CancellationToken.None);
        var childTrail = await world.AuditQueries.SearchAsync(new AuditScope.TenantSubtree(research.Id), new AuditFilter(), 0, 50,
            CancellationToken.None);

        Assert.Equal(new[] { acme.Id, lab.Id, research.Id }.Order(), parentTrail.Events.Select(e => e.TenantId!.Value).Distinct().Order());
        Assert.DoesNotContain(childTrail.Events, e => e.TenantId == acme.Id);
    }

    [Fact]
    public async Task Dashboard_sends_a_member_to_the_tenant_they_used_last()
    {
        var access = world.NewAccess();
        var context = await access.ResolveAsync(parentAdmin.ToPrincipal(), "research", "/t/research", CancellationToken.None);
        await access.RememberLastTenantAsync(context!, CancellationToken.None);

        Assert.Equal("research", await access.FindHomeTenantSlugAsync(parentAdmin.ToPrincipal(), CancellationToken.None));
    }
}

internal static class SignInSessions
{
    /// <summary>The principal as the cookie carries it after a sign-in whose identity-provider session is <paramref name="sid"/>.</summary>
    public static ClaimsPrincipal InSession(this ClaimsPrincipal principal, string sid)
    {
        var identity = ((ClaimsIdentity)principal.Identity!).Clone();
        identity.AddClaim(new Claim(PortalClaims.SessionId, sid));
        return new ClaimsPrincipal(identity);
    }
}
