using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Agents.Authentication;

/// <summary>
/// The agent's short-lived credentials: a client assertion signed with the agent's own key is
/// exchanged for an opaque access token that lives minutes (docs/adr/0031). Every call checks the
/// token against the agents row, so a revocation takes effect at the agent's very next call.
/// </summary>
public sealed class AgentCredentials(
    NpgsqlDataSource dataSource,
    AuditLog audit,
    IOptions<AgentApiOptions> options,
    TimeProvider time,
    ILogger<AgentCredentials> logger)
{
    /// <summary>Clock difference tolerated between an agent and the Portal when checking iat.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    private sealed record AgentKeyRow(Guid Id, Guid TenantId, Guid WorkspaceId, byte[] PublicKey, string TokenAudience, string Status,
        string? StatusReason);

    private sealed record AgentTokenRow(Guid Id, Guid TenantId, Guid WorkspaceId, string Status, string? StatusReason, byte[]? AccessTokenHash,
        DateTimeOffset? AccessTokenExpiresAt);

    public static AgentRefusal InvalidAssertion(string detail) => new(ProblemTypes.InvalidAssertion, "The client assertion was refused.", detail);

    public static AgentRefusal InvalidToken(string detail) => new(ProblemTypes.InvalidToken, "Authentication required.", detail);

    public static AgentRefusal Revoked(string status, string? reason) => new(ProblemTypes.AgentRevoked,
        status == "uninstalled" ? "This agent was uninstalled." : "This agent was revoked.",
        reason ?? "The Portal revoked this agent's credentials.");

    /// <summary>Exchanges a client assertion for an access token, or says why not.</summary>
    public async Task<(TokenResponse? Token, AgentRefusal? Refusal)> IssueTokenAsync(string? assertion, CancellationToken cancellationToken)
    {
        if (!Jws.TryReadUnverified(assertion, ProtocolJson.Default.AssertionClaims, out _, out var unverified)
            || !Guid.TryParse(unverified!.Sub, out var agentId))
            return (null, InvalidAssertion("The assertion is not a compact JWS with an agent id as its subject."));

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var agent = await connection.QueryFirstOrDefaultAsync<AgentKeyRow>(new CommandDefinition(
            "select id, tenant_id, workspace_id, public_key, token_audience, status, status_reason from agents where id = @agentId",
            new { agentId }, cancellationToken: cancellationToken));
        // Same answer for an unknown agent and a bad signature: a caller learns nothing about which ids exist.
        if (agent is null) return (null, InvalidAssertion("The assertion's signature does not verify."));

        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(agent.PublicKey, out _);
        if (!Jws.TryVerify(assertion, ProtocolJson.Default.AssertionClaims, ProtocolV1.AssertionJwsType, key, out var claims))
            return (null, InvalidAssertion("The assertion's signature does not verify."));
        // Only a caller holding the agent's key learns that it was revoked, and why (the agent logs it when it
        // stops): to anyone else a revoked agent is as unknown as an id that never existed.
        if (agent.Status != "active") return (null, Revoked(agent.Status, agent.StatusReason));

        var now = time.GetUtcNow();
        if (!IsUnixTime(claims!.Iat) || !IsUnixTime(claims.Exp))
            return (null, InvalidAssertion("iat and exp must be Unix times in seconds (year 1 to 9999)."));
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(claims.Iat);
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(claims.Exp);
        if (claims.Iss != claims.Sub) return (null, InvalidAssertion("iss and sub must both be the agent id."));
        if (claims.Aud != agent.TokenAudience) return (null, InvalidAssertion($"aud must be {agent.TokenAudience}."));
        if (string.IsNullOrWhiteSpace(claims.Jti) || claims.Jti.Length > 128) return (null,
            InvalidAssertion("jti is required (at most 128 characters)."));
        if (issuedAt > now + ClockSkew) return (null, InvalidAssertion("iat is in the future: check the agent's clock."));
        if (expiresAt <= now) return (null, InvalidAssertion("The assertion has expired."));
        if (expiresAt - issuedAt > ProtocolV1.MaxAssertionLifetime) return (null,
            InvalidAssertion("An assertion may live at most five minutes (exp - iat)."));

        var token = RandomNumberGenerator.GetBytes(32);
        var tokenExpiresAt = now + options.Value.AccessTokenLifetime;
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The jti is kept until the assertion expires; a second use of the same assertion hits the key.
        var fresh = await connection.ExecuteAsync(new CommandDefinition(
            "insert into agent_assertion_ids (agent_id, jti, expires_at) values (@agentId, @Jti, @expiresAt) on conflict do nothing",
            new { agentId, claims.Jti, expiresAt }, transaction, cancellationToken: cancellationToken));
        if (fresh == 0)
        {
            logger.LogWarning("Agent {AgentId} presented a client assertion that was already used (jti {Jti})", agentId, claims.Jti);
            return (null, InvalidAssertion("This assertion was already used: sign a new one for each token request."));
        }
        var updated = await connection.ExecuteAsync(new CommandDefinition("""
            update agents set access_token_hash = @hash, access_token_expires_at = @tokenExpiresAt
            where id = @agentId and status = 'active'
            """, new { agentId, hash = SHA256.HashData(token), tokenExpiresAt }, transaction, cancellationToken: cancellationToken));
        if (updated == 0) return (null, Revoked("revoked", null));
        await transaction.CommitAsync(cancellationToken);
        return (new TokenResponse(FormatToken(agentId, token), (int)options.Value.AccessTokenLifetime.TotalSeconds, "Bearer"), null);
    }

    /// <summary>Checks a bearer access token: known, current, unexpired, and its agent still active.</summary>
    public async Task<(AgentIdentity? Agent, AgentRefusal? Refusal)> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        if (!TryParseToken(token, out var agentId, out var secret))
            return (null, InvalidToken("The access token is malformed."));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<AgentTokenRow>(new CommandDefinition(
            "select id, tenant_id, workspace_id, status, status_reason, access_token_hash, access_token_expires_at from agents where id = @agentId",
            new { agentId }, cancellationToken: cancellationToken));
        // A revocation clears the token, so a revoked agent's caller gets "request a new one", and learns
        // the revocation only by proving the agent's key at the token endpoint.
        if (row?.AccessTokenHash is null)
            return (null, InvalidToken("The access token is not known; request a new one."));
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(secret), row.AccessTokenHash))
            return (null, InvalidToken("The access token is not the agent's current one; request a new one."));
        if (row.Status != "active") return (null, Revoked(row.Status, row.StatusReason));
        if (row.AccessTokenExpiresAt <= time.GetUtcNow())
            return (null, InvalidToken("The access token has expired; request a new one."));
        return (new AgentIdentity(row.Id, row.TenantId, row.WorkspaceId), null);
    }

    /// <summary>
    /// Replaces the agent's key while an agent.rotate-key command of its own is pending (a stolen
    /// access token alone cannot swap the key at an arbitrary time). The current access token dies
    /// with the old key; the agent gets a new one with its new key.
    /// </summary>
    public async Task<AgentRefusal?> RotateKeyAsync(AgentIdentity agent, KeyRotationRequest request, CancellationToken cancellationToken)
    {
        if (!ProtocolKeys.TryImportPublicKey(request.PublicKey, out var newKey))
            return new AgentRefusal("about:blank", "The public key is not valid.", "Send an ECDSA P-256 SubjectPublicKeyInfo, base64.");
        using var _ = newKey;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var pending = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
            select exists (select 1 from agent_commands
                           where id = @CommandId and agent_id = @AgentId and type = @Type and status = 'pending' and expires_at > @now)
            """, new { request.CommandId, agent.AgentId, Type = CommandTypes.RotateKey, now }, transaction, cancellationToken: cancellationToken));
        if (!pending)
            return new AgentRefusal("about:blank", "No key rotation is pending.",
                "A key is replaced only while an agent.rotate-key command for this agent is pending.");
        var keyId = ProtocolKeys.KeyId(newKey!);
        await connection.ExecuteAsync(new CommandDefinition("""
            update agents set public_key = @PublicKey, key_id = @keyId, key_rotated_at = @now,
                              access_token_hash = null, access_token_expires_at = null
            where id = @AgentId
            """, new { PublicKey = newKey!.ExportSubjectPublicKeyInfo(), keyId, now, agent.AgentId }, transaction,
                cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(Actor.Agent(agent.AgentId), "agent.key_rotated", agent.TenantId, "agent", agent.AgentId.ToString(),
            new { request.CommandId, keyId }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return null;
    }

    /// <summary>"{agent id}.{secret}": the id finds the row without an index on the hash; only the secret's hash is stored.</summary>
    private static string FormatToken(Guid agentId, byte[] secret) => $"{agentId:N}.{Base64Url.EncodeToString(secret)}";

    private static bool TryParseToken(string token, out Guid agentId, out byte[] secret)
    {
        agentId = default;
        secret = [];
        var dot = token.IndexOf('.');
        if (dot != 32 || !Guid.TryParseExact(token.AsSpan(0, dot), "N", out agentId)) return false;
        try
        {
            secret = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
            return secret.Length == 32;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Seconds since 1970 that a <see cref="DateTimeOffset"/> can hold: larger ones are a broken or hostile assertion.</summary>
    private static bool IsUnixTime(long seconds) =>
        seconds >= DateTimeOffset.MinValue.ToUnixTimeSeconds() && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    internal static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
