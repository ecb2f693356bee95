using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Authentication.Sessions;

/// <summary>What a valid logout token asks for: end the sessions of this person, or of this realm session.</summary>
public sealed record LogoutRequest(string Issuer, string? Subject, string? SessionId);

/// <summary>
/// The checks of OpenID Connect Back-Channel Logout 1.0, section 2.6, on a logout token the realm
/// posted: a JWT signed with the realm's keys (via <see cref="RealmTokens"/>, the same keys and
/// rules as an id_token: issuer, audience = this client, expiry if present), recent (<c>iat</c>),
/// with <c>sub</c> or <c>sid</c>, the back-channel logout event, no <c>nonce</c> (so an id_token can
/// never pass for one), and a <c>jti</c> not seen before (replay). The outcome says why a token was refused.
/// </summary>
public sealed class BackChannelLogout(
    RealmTokens realm,
    NpgsqlDataSource dataSource,
    IOptions<KeycloakOptions> options,
    TimeProvider time)
{
    public const string LogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    public async Task<(LogoutRequest? Request, string? Refusal)> ValidateAsync(string? logoutToken, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(logoutToken)) return (null, "The request has no logout_token.");
        var settings = options.Value;
        var result = await realm.ValidateAsync(logoutToken, parameters =>
        {
            // A logout token need not carry exp (earlier drafts had none); iat is checked below instead.
            parameters.RequireExpirationTime = false;
        }, cancellationToken);
        if (!result.IsValid) return (null, $"The logout token is not valid: {result.Exception?.Message}");
        var token = (JsonWebToken)result.SecurityToken;

        if (!token.TryGetPayloadValue<long>("iat", out var issuedAtSeconds))
            return (null, "The logout token has no iat.");
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(issuedAtSeconds);
        var now = time.GetUtcNow();
        if (issuedAt > now + settings.ClockSkew) return (null, "The logout token was issued in the future; check the clocks.");
        if (issuedAt < now - settings.LogoutTokenMaxAge - settings.ClockSkew) return (null, "The logout token is too old.");

        var subject = token.TryGetPayloadValue<string>("sub", out var sub) && !string.IsNullOrEmpty(sub) ? sub : null;
        var sessionId = token.TryGetPayloadValue<string>("sid", out var sid) && !string.IsNullOrEmpty(sid) ? sid : null;
        if (subject is null && sessionId is null) return (null, "The logout token names neither sub nor sid.");
        // The signature is verified: reading the payload's JSON members now only looks at what the realm signed.
        using (var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(token.EncodedPayload)))
        {
            if (!HasLogoutEvent(payload.RootElement)) return (null, "The logout token does not carry the back-channel logout event.");
            if (payload.RootElement.TryGetProperty("nonce", out _)) return (null, "The logout token has a nonce, which logout tokens never have.");
        }
        if (!token.TryGetPayloadValue<string>("jti", out var jti) || string.IsNullOrEmpty(jti)) return (null, "The logout token has no jti.");

        if (!await FirstUseAsync(token.Issuer, jti, issuedAt + settings.LogoutTokenMaxAge + settings.ClockSkew * 2, cancellationToken))
            return (null, "The logout token was used before (replay).");
        return (new LogoutRequest(token.Issuer, subject, sessionId), null);
    }

    private static bool HasLogoutEvent(JsonElement payload) =>
        payload.TryGetProperty("events", out var events) && events.ValueKind == JsonValueKind.Object
        && events.TryGetProperty(LogoutEvent, out var member) && member.ValueKind == JsonValueKind.Object;

    /// <summary>Remembers the token's jti until it would be too old anyway; false when it was already there.</summary>
    private async Task<bool> FirstUseAsync(string issuer, string jti, DateTimeOffset forgetAfter, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var inserted = await connection.ExecuteAsync(new CommandDefinition("""
            insert into backchannel_logout_tokens (issuer, jti, received_at, forget_after)
            values (@issuer, @jti, @now, @forgetAfter)
            on conflict (issuer, jti) do nothing
            """, new { issuer, jti, now = time.GetUtcNow(), forgetAfter }, cancellationToken: cancellationToken));
        return inserted == 1;
    }
}
