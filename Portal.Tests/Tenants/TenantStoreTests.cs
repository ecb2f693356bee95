using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Tests.Tenants;

/// <summary>Creating and changing tenants on real PostgreSQL: defaults, uniqueness, overlap, and nothing half-created.</summary>
public sealed class TenantStoreTests : IAsyncLifetime
{
    private TenantWorld world = null!;

    public async Task InitializeAsync() => world = await TenantWorld.CreateAsync();

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task A_root_tenants_domain_defaults_to_its_slug_under_the_platform_base_domain()
    {
        var dave = await world.UserAsync("dave");

        var acme = await world.TenantAsync(dave, "acme");

        Assert.Equal("acme.cogrion.test", acme.Domain);
        Assert.Null(acme.ParentId);
    }

    [Fact]
    public async Task A_childs_domain_defaults_to_its_slug_under_the_parents_domain()
    {
        var dave = await world.UserAsync("dave");
        var acme = await world.TenantAsync(dave, "acme", domain: "acme-corp.cogrion.test");

        var research = await world.TenantAsync(dave, "research", acme);

        Assert.Equal("research.acme-corp.cogrion.test", research.Domain);
        Assert.Equal(acme.Id, research.ParentId);
    }

    [Fact]
    public async Task The_creator_becomes_admin_and_the_creation_is_audited_on_the_new_tenants_chain()
    {
        var dave = await world.UserAsync("dave");

        var acme = await world.TenantAsync(dave, "acme");

        var member = Assert.Single(await world.Members.ListAsync(acme.Id, CancellationToken.None));
        Assert.Equal((dave.Id, TenantRole.Admin), (member.UserId, member.Role));
        var trail = await world.AuditQueries.SearchAsync(new AuditScope.TenantSubtree(acme.Id), new AuditFilter(), 0, 10, CancellationToken.None);
        Assert.Equal("tenant.created", Assert.Single(trail.Events).Action);
    }

    [Fact]
    public async Task A_taken_slug_is_a_field_error_and_nothing_is_created()
    {
        var dave = await world.UserAsync("dave");
        await world.TenantAsync(dave, "acme");
        var before = (await world.CountAsync("tenants"), await world.CountAsync("tenant_memberships"), await world.CountAsync("audit_events"));

        var result = await world.Tenants.CreateAsync(new NewTenant("Acme again", "acme", "acme2.cogrion.test"), dave.Id, "dave",
            CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Contains("taken", result.Errors.For("slug"));
        Assert.Equal(before,
            (await world.CountAsync("tenants"), await world.CountAsync("tenant_memberships"), await world.CountAsync("audit_events")));
    }

    [Theory]
    [InlineData("Acme Data", "ADMIN", null, "slug", "reserved")]
    [InlineData("Acme Data", "acme_data", null, "slug", "lower-case")]
    [InlineData("Acme Data", "acme", "acme.example.com", "domain", "must end with")]
    [InlineData("", "acme", null, "name", "Enter the organisation")]
    public async Task Bad_input_is_a_field_error_and_nothing_is_created(string name, string slug, string? domain, string field, string message)
    {
        var dave = await world.UserAsync("dave");

        var result = await world.Tenants.CreateAsync(new NewTenant(name, slug, domain), dave.Id, "dave", CancellationToken.None);

        Assert.Contains(message, result.Errors.For(field));
        Assert.Equal(0, await world.CountAsync("tenants"));
        Assert.Equal(0, await world.CountAsync("audit_events"));
    }

    [Fact]
    public async Task A_domain_inside_an_unrelated_tenants_domain_is_refused()
    {
        var dave = await world.UserAsync("dave");
        await world.TenantAsync(dave, "acme");

        var inside = await world.Tenants.CreateAsync(new NewTenant("Shadow", "shadow", "eu.acme.cogrion.test"), dave.Id, "dave",
            CancellationToken.None);
        var same = await world.Tenants.CreateAsync(new NewTenant("Twin", "twin", "acme.cogrion.test"), dave.Id, "dave", CancellationToken.None);

        Assert.Contains("overlaps", inside.Errors.For("domain"));
        Assert.Contains("already another tenant's domain", same.Errors.For("domain"));
    }

    [Fact]
    public async Task A_childs_domain_must_stay_inside_its_parents_domain()
    {
        var dave = await world.UserAsync("dave");
        var acme = await world.TenantAsync(dave, "acme");

        var result = await world.Tenants.CreateAsync(new NewTenant("Research", "research", "research.cogrion.test", acme.Id), dave.Id, "dave",
            CancellationToken.None);

        Assert.Contains("must end with '.acme.cogrion.test'", result.Errors.For("domain"));
    }

    [Fact]
    public async Task Moving_a_tenants_domain_moves_the_descendants_under_it_and_is_audited()
    {
        var dave = await world.UserAsync("dave");
        var acme = await world.TenantAsync(dave, "acme");
        var research = await world.TenantAsync(dave, "research", acme);
        var lab = await world.TenantAsync(dave, "lab", research);

        var result = await world.Tenants.UpdateAsync(acme.Id, "Acme Corp", "acme-corp.cogrion.test", dave.ToActor(), CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal("lab.research.acme-corp.cogrion.test", (await world.Tenants.FindAsync(lab.Id, CancellationToken.None))!.Domain);
        Assert.Equal("research.acme-corp.cogrion.test", (await world.Tenants.FindAsync(research.Id, CancellationToken.None))!.Domain);
        var trail = await world.AuditQueries.SearchAsync(new AuditScope.TenantSubtree(acme.Id), new AuditFilter(Action: "tenant."), 0, 20,
            CancellationToken.None);
        Assert.Contains(trail.Events, e => e.Action == "tenant.renamed");
        Assert.Contains(trail.Events, e => e.Action == "tenant.domain_changed" && e.Details.Contains("\"descendantsMoved\": 2"));
    }

    [Fact]
    public async Task A_subtree_lists_parents_before_children()
    {
        var dave = await world.UserAsync("dave");
        var acme = await world.TenantAsync(dave, "acme");
        var research = await world.TenantAsync(dave, "research", acme);
        await world.TenantAsync(dave, "lab", research);
        await world.TenantAsync(dave, "ops", acme);
        await world.TenantAsync(dave, "other");

        var subtree = await world.Tenants.GetSubtreeAsync(acme.Id, CancellationToken.None);

        Assert.Equal(["acme", "ops", "research", "lab"], subtree.Select(n => n.Slug));
        Assert.Equal([0, 1, 1, 2], subtree.Select(n => n.Depth));
    }
}

internal static class TestUserActors
{
    public static Actor ToActor(this Infrastructure.TestUser user) => Actor.User(user.Id, user.Username);
}
