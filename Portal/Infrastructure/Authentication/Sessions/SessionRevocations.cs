using Dapper;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Authentication.Sessions;

/// <summary>
/// Ends server-side sessions other than by the person's own sign-out: every session of one realm
/// session (back-channel logout with <c>sid</c>), every session of a person (back-channel logout
/// with only <c>sub</c>, or an admin's "sign out everywhere"). Deleting the rows ends them for every
/// replica's next request; the NOTIFY in the same statement ends open circuits.
/// </summary>
public sealed class SessionRevocations(NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>Ends the sessions a back-channel logout token names. Returns how many ended.</summary>
    public async Task<long> EndForLogoutTokenAsync(string? subject, string? idpSessionId, CancellationToken cancellationToken)
    {
        if (subject is null && idpSessionId is null) throw new ArgumentException("A logout names a subject, a session, or both.");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // With a sid, only that realm session ends (and it must belong to the sub, if one is given);
        // with only a sub, every session of that person ends (Back-Channel Logout 1.0, 2.4).
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
            with ended as (
                delete from authentication_sessions
                where (@idpSessionId::text is null or idp_session_id = @idpSessionId)
                  and (@subject::text is null or subject = @subject)
                returning key_hash
            )
            {SessionEndNotifications.NotifySql}
            """, new { subject, idpSessionId }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Ends every session of a person and makes their next sign-in ask for the password again even if
    /// the realm still holds a single sign-on session for them. Runs in the caller's transaction, so
    /// the audit event and the end are one change.
    /// </summary>
    public async Task<long> EndAllForSubjectAsync(string subject, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has no open connection.");
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into authentication_revocations (subject, revoked_at) values (@subject, @now)
            on conflict (subject) do update set revoked_at = excluded.revoked_at
            """, new { subject, now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken));
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
            with ended as (delete from authentication_sessions where subject = @subject returning key_hash)
            {SessionEndNotifications.NotifySql}
            """, new { subject }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Whether a sign-in must be redone with a password: the realm authenticated the person
    /// (<paramref name="authTime"/>) before they were signed out everywhere. A token without
    /// <c>auth_time</c> cannot show it is newer, so it must be redone too.
    /// </summary>
    public async Task<bool> RequiresFreshLoginAsync(string subject, DateTimeOffset? authTime, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var revokedAt = await connection.QuerySingleOrDefaultAsync<DateTimeOffset?>(new CommandDefinition(
            "select revoked_at from authentication_revocations where subject = @subject", new { subject }, cancellationToken: cancellationToken));
        // auth_time has whole seconds: a login in the very second of the revocation counts as after it,
        // or a person signing in again at once would be asked twice.
        return revokedAt is { } revoked && (authTime is null || authTime.Value.ToUnixTimeSeconds() < revoked.ToUnixTimeSeconds());
    }

    /// <summary>Whether a session (by the hash of its key) still exists and has not expired.</summary>
    public async Task<bool> IsActiveAsync(string sessionHash, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from authentication_sessions where key_hash = decode(@sessionHash, 'hex') and expires_at > @now)",
            new { sessionHash, now = time.GetUtcNow() }, cancellationToken: cancellationToken));
    }
}
