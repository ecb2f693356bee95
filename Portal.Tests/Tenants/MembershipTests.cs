using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Tenants;

public sealed class MembershipTests : IAsyncLifetime
{
    private TenantWorld world = null!;
    private TestUser dave = null!;
    private Tenant acme = null!;

    public async Task InitializeAsync() => (world, dave, acme) = await TenantWorld.CreateWithTenantAsync("dave", "acme");

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task The_last_admin_can_be_neither_demoted_nor_removed()
    {
        var demote = await world.Members.ChangeRoleAsync(acme.Id, dave.Id, TenantRole.Operator, dave.ToActor(), CancellationToken.None);
        var remove = await world.Members.RemoveAsync(acme.Id, dave.Id, dave.ToActor(), CancellationToken.None);

        Assert.Contains("at least one admin", demote.Errors.For("role"));
        Assert.Contains("at least one admin", remove.Errors.For("member"));
        Assert.Equal(TenantRole.Admin, Assert.Single(await world.Members.ListAsync(acme.Id, CancellationToken.None)).Role);
    }

    [Fact]
    public async Task With_a_second_admin_the_first_can_step_down_and_it_is_audited()
    {
        var carol = await world.UserAsync("carol");
        await world.GrantAsync(acme, carol, TenantRole.Admin);

        var result = await world.Members.ChangeRoleAsync(acme.Id, dave.Id, TenantRole.Viewer, carol.ToActor(), CancellationToken.None);

        Assert.True(result.Succeeded);
        var trail = await world.AuditQueries.SearchAsync(new Features.Audit.AuditScope.TenantSubtree(acme.Id),
            new Features.Audit.AuditFilter(Action: "membership.role_changed"), 0, 10, CancellationToken.None);
        Assert.Contains("\"to\": \"viewer\"", Assert.Single(trail.Events).Details);
    }

    [Fact]
    public async Task Two_admins_demoting_each_other_at_once_leave_one_admin()
    {
        var carol = await world.UserAsync("carol");
        await world.GrantAsync(acme, carol, TenantRole.Admin);

        var results = await Task.WhenAll(
            world.Members.ChangeRoleAsync(acme.Id, dave.Id, TenantRole.Viewer, carol.ToActor(), CancellationToken.None),
            world.Members.ChangeRoleAsync(acme.Id, carol.Id, TenantRole.Viewer, dave.ToActor(), CancellationToken.None));

        Assert.Equal(1, results.Count(r => r.Succeeded));
        Assert.Single(await world.Members.ListAsync(acme.Id, CancellationToken.None), m => m.Role == TenantRole.Admin);
    }

    [Fact]
    public async Task A_member_of_another_tenant_addressed_through_this_one_is_not_found_and_keeps_their_role()
    {
        var bob = await world.UserAsync("bob");
        var globex = await world.TenantAsync(bob, "globex");
        var carol = await world.UserAsync("carol");
        await world.GrantAsync(globex, carol, TenantRole.Operator);

        var remove = await world.Members.RemoveAsync(acme.Id, carol.Id, dave.ToActor(), CancellationToken.None);
        var promote = await world.Members.ChangeRoleAsync(acme.Id, carol.Id, TenantRole.Admin, dave.ToActor(), CancellationToken.None);

        Assert.True(remove.IsNotFound);
        Assert.True(promote.IsNotFound);
        Assert.Contains(await world.Members.ListAsync(globex.Id, CancellationToken.None), m => m.UserId == carol.Id && m.Role == TenantRole.Operator);
    }
}
