using System.Security.Claims;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication.Sessions;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Users;

/// <summary>A person who signed in, and how many Portal sessions they hold right now.</summary>
public sealed record UserSessionSummary(Guid Id, string Username, string? Email, DateTimeOffset? LastSignInAt, int ActiveSessions,
    DateTimeOffset? LastActiveAt);

/// <summary>
/// The platform admin's view of who is signed in, and "sign this user out everywhere": every Portal
/// session of the person ends at once on every replica (open pages included), and their next sign-in
/// asks the realm for the password even if it still holds a single sign-on session for them.
/// </summary>
public sealed class UserSessions(NpgsqlDataSource dataSource, SessionRevocations revocations, AuditLog audit, TimeProvider time)
{
    public const int PageSize = 100;

    /// <summary>People who signed in, those with open sessions first; <paramref name="search"/> matches username or e-mail.</summary>
    public async Task<IReadOnlyList<UserSessionSummary>> ListAsync(string? search, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<UserSessionSummary>(new CommandDefinition("""
            select u.id, u.username, u.email, u.last_sign_in_at,
                   count(s.key_hash)::int as active_sessions, max(s.renewed_at) as last_active_at
            from users u
            left join authentication_sessions s on s.user_id = u.id and s.expires_at > @now
            where @pattern::text is null or u.username ilike @pattern or u.email ilike @pattern
            group by u.id
            order by count(s.key_hash) desc, u.username
            limit @limit
            """,
            new
            {
                now = time.GetUtcNow(),
                pattern = string.IsNullOrWhiteSpace(search) ? null : "%" + search.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_")
                    + "%",
                limit = PageSize,
            }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>Ends every session of the user and audits it in the same transaction. Null when there is no such user.</summary>
    public async Task<long?> SignOutEverywhereAsync(Guid userId, ClaimsPrincipal admin, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var user = await connection.QuerySingleOrDefaultAsync<(string Subject, string Username)?>(new CommandDefinition(
            "select subject, username from users where id = @userId", new { userId }, transaction, cancellationToken: cancellationToken));
        if (user is null) return null;

        var ended = await revocations.EndAllForSubjectAsync(user.Value.Subject, transaction, cancellationToken);
        await audit.RecordAsync(new AuditEntry(admin.AsActor(), "session.signed_out_everywhere",
            TargetKind: "user", TargetId: userId.ToString(),
            Details: new { username = user.Value.Username, sessions_ended = ended }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ended;
    }
}
