using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Invitations;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Tenants;

/// <summary>Invitations bind at sign-in, through the real sign-in path, to verified e-mail addresses only.</summary>
public sealed class InvitationTests : IAsyncLifetime
{
    private TenantWorld world = null!;
    private TestUser dave = null!;
    private Tenant acme = null!;

    public async Task InitializeAsync() => (world, dave, acme) = await TenantWorld.CreateWithTenantAsync("dave", "acme");

    public async Task DisposeAsync() => await world.DisposeAsync();

    private async Task<Invitation> InviteAsync(string email, string role = "operator")
    {
        var result = await world.Invitations.InviteAsync(acme.Id, email, role, dave.Id, dave.ToActor(), CancellationToken.None);
        Assert.True(result.Succeeded);
        return result.Value!;
    }

    [Fact]
    public async Task An_invitation_binds_at_the_next_sign_in_of_the_account_whose_verified_email_matches()
    {
        await InviteAsync("alice@example.com");

        var alice = await world.SignInAsync("sub-alice", "alice", "Alice@Example.com", emailVerified: true);

        var member = Assert.Single(await world.Members.ListAsync(acme.Id, CancellationToken.None), m => m.UserId == alice.Id);
        Assert.Equal(TenantRole.Operator, member.Role);
        var invitation = Assert.Single(await world.Invitations.ListAsync(acme.Id, CancellationToken.None));
        Assert.Equal((InvitationStatus.Accepted, "alice"), (invitation.StatusAt(world.Clock.GetUtcNow()), invitation.AcceptedBy));
        var trail = await world.AuditQueries.SearchAsync(new Features.Audit.AuditScope.TenantSubtree(acme.Id),
            new Features.Audit.AuditFilter(Action: "invitation.accepted"), 0, 10, CancellationToken.None);
        Assert.Single(trail.Events);
    }

    [Fact]
    public async Task An_unverified_email_does_not_collect_the_invitation()
    {
        await InviteAsync("erin@example.com");

        var erin = await world.SignInAsync("sub-erin", "erin", "erin@example.com", emailVerified: false);

        Assert.DoesNotContain(await world.Members.ListAsync(acme.Id, CancellationToken.None), m => m.UserId == erin.Id);
        Assert.Equal(InvitationStatus.Pending, Assert.Single(await world.Invitations.ListAsync(acme.Id, CancellationToken.None))
            .StatusAt(world.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task Expired_and_revoked_invitations_do_not_bind()
    {
        var revoked = await InviteAsync("bob@example.com");
        await world.Invitations.RevokeAsync(acme.Id, revoked.Id, dave.ToActor(), CancellationToken.None);
        await InviteAsync("carol@example.com");
        world.Clock.Advance(TimeSpan.FromDays(8));

        var bob = await world.SignInAsync("sub-bob", "bob", "bob@example.com", emailVerified: true);
        var carol = await world.SignInAsync("sub-carol", "carol", "carol@example.com", emailVerified: true);

        var members = await world.Members.ListAsync(acme.Id, CancellationToken.None);
        Assert.DoesNotContain(members, m => m.UserId == bob.Id || m.UserId == carol.Id);
    }

    [Fact]
    public async Task Resending_revives_an_expired_invitation_with_a_fresh_expiry()
    {
        var invitation = await InviteAsync("carol@example.com");
        world.Clock.Advance(TimeSpan.FromDays(8));

        var resent = await world.Invitations.ResendAsync(acme.Id, invitation.Id, dave.ToActor(), CancellationToken.None);

        Assert.Equal(world.Clock.GetUtcNow().AddDays(7), resent.Value!.ExpiresAt);
        var carol = await world.SignInAsync("sub-carol", "carol", "carol@example.com", emailVerified: true);
        Assert.Contains(await world.Members.ListAsync(acme.Id, CancellationToken.None), m => m.UserId == carol.Id);
    }

    [Theory]
    [InlineData("not an address", "operator", "email", "Enter one e-mail address")]
    [InlineData("dave@example.com", "operator", "email", "already a member")]
    [InlineData("dana@example.com", "owner", "role", "viewer, operator, admin")]
    public async Task Bad_invitations_are_field_errors_and_nothing_is_stored(string email, string role, string field, string message)
    {
        var result = await world.Invitations.InviteAsync(acme.Id, email, role, dave.Id, dave.ToActor(), CancellationToken.None);

        Assert.Contains(message, result.Errors.For(field));
        Assert.Equal(0, await world.CountAsync("tenant_invitations"));
    }

    [Fact]
    public async Task Inviting_an_address_twice_asks_to_resend_instead()
    {
        await InviteAsync("dana@example.com");

        var again = await world.Invitations.InviteAsync(acme.Id, "DANA@example.com", "viewer", dave.Id, dave.ToActor(), CancellationToken.None);

        Assert.Contains("already invited", again.Errors.For("email"));
        Assert.Equal(1, await world.CountAsync("tenant_invitations"));
    }

    [Fact]
    public async Task An_invitation_id_of_another_tenant_is_not_found_and_stays_open()
    {
        var bob = await world.UserAsync("bob");
        var globex = await world.TenantAsync(bob, "globex");
        var theirs = (await world.Invitations.InviteAsync(globex.Id, "dana@example.com", "viewer", bob.Id, bob.ToActor(), CancellationToken.None))
            .Value!;

        var revoke = await world.Invitations.RevokeAsync(acme.Id, theirs.Id, dave.ToActor(), CancellationToken.None);

        Assert.True(revoke.IsNotFound);
        Assert.True(Assert.Single(await world.Invitations.ListAsync(globex.Id, CancellationToken.None)).IsOpen);
    }
}
