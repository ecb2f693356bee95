using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Tenants.Invitations;

/// <summary>
/// At sign-in, turns the open invitations addressed to the person's e-mail into memberships, in the
/// sign-in's own transaction. Only a VERIFIED e-mail counts: anyone can type any address into an
/// identity provider's profile, and an unverified claim would let them collect someone else's invitation.
/// </summary>
public sealed class InvitationBinder(AuditLog audit, TimeProvider time, ILogger<InvitationBinder> logger) : ISignInParticipant
{
    private sealed record Bound(Guid Id, Guid TenantId, string Role);

    public async Task OnSignedInAsync(PortalUser user, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (!user.EmailVerified || EmailAddresses.Normalise(user.Email) is not { } email) return;
        var connection = transaction.Connection!;
        // Accept every open, unexpired invitation to this address; an existing membership keeps the stronger role.
        var bound = (await connection.QueryAsync<Bound>(new CommandDefinition("""
            with accepted as (
                update tenant_invitations
                set accepted_at = @now, accepted_by = @userId
                where email = @email and accepted_at is null and revoked_at is null and expires_at > @now
                returning id, tenant_id, role
            ), joined as (
                insert into tenant_memberships (tenant_id, user_id, role)
                select tenant_id, @userId, max(role) from accepted group by tenant_id
                on conflict (tenant_id, user_id) do update set role = greatest(tenant_memberships.role, excluded.role)
            )
            select id, tenant_id, role::text as role from accepted
            """, new { email, userId = user.Id, now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken))).ToList();

        foreach (var invitation in bound)
        {
            await audit.RecordAsync(new AuditEntry(Actor.User(user.Id, user.Username), "invitation.accepted", invitation.TenantId,
                "invitation", invitation.Id.ToString(), new { email, role = invitation.Role }), transaction, cancellationToken);
        }
        if (bound.Count > 0)
            logger.LogInformation("User {UserId} joined {Count} tenant(s) through invitations at sign-in", user.Id, bound.Count);
    }
}
