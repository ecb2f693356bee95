using System.Security.Claims;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Authentication;

public sealed record PortalUser(Guid Id, string Subject, string Username, string? Email, bool EmailVerified, string? DisplayName);

/// <summary>
/// The Portal's record of the people who signed in. The identity provider owns their accounts;
/// the Portal keeps a stable id per subject to hang memberships and audit events on.
/// </summary>
public sealed class UserDirectory(NpgsqlDataSource dataSource, AuditLog audit, IEnumerable<ISignInParticipant>? participants = null)
{
    private readonly IReadOnlyList<ISignInParticipant> participants = participants?.ToList() ?? [];

    /// <summary>Creates or refreshes the user behind a fresh sign-in, and audits the sign-in.</summary>
    public async Task<PortalUser> RecordSignInAsync(ClaimsPrincipal principal, CancellationToken cancellationToken)
    {
        var subject = principal.FindFirstValue(PortalClaims.Subject)
            ?? throw new InvalidOperationException("A signed-in principal must have a subject.");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var user = await connection.QuerySingleAsync<PortalUser>(new CommandDefinition("""
            insert into users (subject, username, email, email_verified, display_name, last_sign_in_at)
            values (@subject, @username, @email, @emailVerified, @displayName, now())
            on conflict (subject) do update set
                username = excluded.username, email = excluded.email, email_verified = excluded.email_verified,
                display_name = excluded.display_name, last_sign_in_at = excluded.last_sign_in_at
            returning id, subject, username, email, email_verified, display_name
            """,
            new
            {
                subject,
                username = principal.GetUsername() ?? subject,
                email = principal.FindFirstValue(ClaimTypes.Email),
                emailVerified = principal.FindFirstValue(PortalClaims.EmailVerified) == "true",
                displayName = principal.FindFirstValue("name"),
            },
            transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(
            Actor.User(user.Id, user.Username), "session.signed_in", TargetKind: "user", TargetId: user.Id.ToString(),
            Details: new { roles = principal.GetRoles() }), transaction, cancellationToken);
        foreach (var participant in participants)
            await participant.OnSignedInAsync(user, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return user;
    }

    public async Task<PortalUser?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<PortalUser>(new CommandDefinition(
            "select id, subject, username, email, email_verified, display_name from users where id = @id",
            new { id }, cancellationToken: cancellationToken));
    }
}
