using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Authentication.Sessions;

/// <summary>
/// Server-side sessions: the cookie handler keeps each authentication ticket here and puts only a
/// random session key in the cookie. The ticket (claims and the realm's tokens) is serialized and
/// protected with Data Protection before it is written, and the row is found by the SHA-256 of the
/// key, so a dump of the table reveals neither a token nor a usable key. Every request reads its
/// row, so a deleted row (sign-out, back-channel logout, "sign out everywhere") is a signed-out
/// session on every replica at once. See docs/adr/0058-server-side-sessions-and-back-channel-logout.md.
/// </summary>
public sealed class PostgresTicketStore(
    NpgsqlDataSource dataSource,
    IDataProtectionProvider dataProtection,
    TimeProvider time,
    ILogger<PostgresTicketStore> logger) : ITicketStore
{
    private const string Purpose = "Cogrion.Authentication.ServerSessions.v1";
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(8);
    private readonly IDataProtector protector = dataProtection.CreateProtector(Purpose);

    /// <summary>The session's name in the database and in notifications: hex SHA-256 of its key (the key itself is only in the cookie).</summary>
    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    public async Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var principal = ticket.Principal;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into authentication_sessions (key_hash, subject, idp_session_id, user_id, protected_ticket, created_at, renewed_at, expires_at)
            values (decode(@Hash, 'hex'), @Subject, @SessionId, @UserId, @Ticket, @Now, @Now, @ExpiresAt)
            """,
            new
            {
                Hash = HashOf(key),
                Subject = principal.FindFirstValue(PortalClaims.Subject)
                    ?? throw new InvalidOperationException("A session needs the person's subject."),
                SessionId = principal.FindFirstValue(PortalClaims.SessionId),
                UserId = principal.GetUserId(),
                Ticket = Protect(ticket),
                Now = now,
                ExpiresAt = ticket.Properties.ExpiresUtc ?? now + DefaultLifetime,
            }, cancellationToken: cancellationToken));
        return key;
    }

    public async Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Only a session that still exists is renewed: one ended meanwhile on another replica stays ended.
        await connection.ExecuteAsync(new CommandDefinition("""
            update authentication_sessions
            set protected_ticket = @Ticket, renewed_at = @Now, expires_at = @ExpiresAt, idp_session_id = coalesce(@SessionId, idp_session_id)
            where key_hash = decode(@Hash, 'hex')
            """,
            new
            {
                Hash = HashOf(key),
                Ticket = Protect(ticket),
                Now = now,
                ExpiresAt = ticket.Properties.ExpiresUtc ?? now + DefaultLifetime,
                SessionId = ticket.Principal.FindFirstValue(PortalClaims.SessionId),
            }, cancellationToken: cancellationToken));
    }

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        var hash = HashOf(key);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var stored = await connection.QuerySingleOrDefaultAsync<byte[]>(new CommandDefinition(
            "select protected_ticket from authentication_sessions where key_hash = decode(@hash, 'hex') and expires_at > @now",
            new { hash, now = time.GetUtcNow() }, cancellationToken: cancellationToken));
        if (stored is null) return null;

        AuthenticationTicket? ticket;
        try
        {
            ticket = TicketSerializer.Default.Deserialize(protector.Unprotect(stored));
        }
        catch (CryptographicException ex)
        {
            // The key ring that protected it is gone (or the row was tampered with): the person signs in again.
            logger.LogWarning("A stored session could not be unprotected and is ignored: {Reason}", ex.Message);
            return null;
        }
        if (ticket?.Principal.Identity is ClaimsIdentity identity)
        {
            foreach (var old in identity.FindAll(PortalClaims.ServerSession).ToList()) identity.RemoveClaim(old);
            identity.AddClaim(new Claim(PortalClaims.ServerSession, hash));
        }
        return ticket;
    }

    public async Task RemoveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition($"""
            with ended as (delete from authentication_sessions where key_hash = decode(@hash, 'hex') returning key_hash)
            {SessionEndNotifications.NotifySql}
            """, new { hash = HashOf(key) }, cancellationToken: cancellationToken));
    }

    private byte[] Protect(AuthenticationTicket ticket)
    {
        // The circuit's marker is derived on every read; it is not part of what is stored.
        var copy = ticket.Principal.Identity is ClaimsIdentity identity && identity.HasClaim(c => c.Type == PortalClaims.ServerSession)
            ? new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(identity.Claims.Where(c => c.Type != PortalClaims.ServerSession),
                identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType)), ticket.Properties, ticket.AuthenticationScheme)
            : ticket;
        return protector.Protect(TicketSerializer.Default.Serialize(copy));
    }

    // The cookie handler calls the HttpContext overloads; these are the interface's older shapes.
    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, null!, CancellationToken.None);
    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, null!, CancellationToken.None);
    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, null!, CancellationToken.None);
    public Task RemoveAsync(string key) => RemoveAsync(key, null!, CancellationToken.None);
}
