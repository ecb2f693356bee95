using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>
/// Keeps a session's tokens fresh: shortly before the access token expires it redeems the refresh
/// token at the realm's token endpoint (from discovery); when that fails (session ended at Keycloak,
/// user disabled) or the new id_token does not validate, the Portal session ends too and the next
/// page asks the user to sign in again. Runs on every request that carries the session cookie (page
/// loads and circuit start-up); the refreshed ticket is written back to the server-side session.
/// </summary>
public sealed class SessionRefresher(
    IHttpClientFactory httpClientFactory,
    RealmTokens realm,
    IOptions<KeycloakOptions> options,
    TimeProvider time,
    ILogger<SessionRefresher> logger)
{
    public const string HttpClientName = "keycloak";

    public async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        var settings = options.Value;
        var expiresAt = context.Properties.GetTokenValue("expires_at");
        if (expiresAt is null || !DateTimeOffset.TryParse(expiresAt, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var expiry))
            return;
        if (expiry - time.GetUtcNow() > settings.RefreshBeforeExpiry)
            return;

        var refreshToken = context.Properties.GetTokenValue("refresh_token");
        var subject = context.Principal?.FindFirstValue(PortalClaims.Subject);
        var refreshed = refreshToken is null || subject is null ? null : await RedeemAsync(refreshToken, subject, context.HttpContext.RequestAborted);
        if (refreshed is null)
        {
            logger.LogInformation("Session of {User} could not be refreshed; signing out", context.Principal?.Identity?.Name);
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return;
        }

        var identity = KeycloakClaims.ToPortalIdentity(refreshed.IdTokenClaims, settings.ClientId, refreshed.Issuer);
        // The Portal's own user id and the server-side session's name do not come from the token: carry them over
        // (a circuit that starts on this very request listens for its session's end by that name).
        foreach (var type in new[] { PortalClaims.UserId, PortalClaims.ServerSession })
            if (context.Principal!.FindFirst(type) is { } carried) identity.AddClaim(new Claim(type, carried.Value));
        context.ReplacePrincipal(new ClaimsPrincipal(identity));

        context.Properties.UpdateTokenValue("access_token", refreshed.AccessToken);
        context.Properties.UpdateTokenValue("id_token", refreshed.IdToken);
        if (refreshed.RefreshToken is not null) context.Properties.UpdateTokenValue("refresh_token", refreshed.RefreshToken);
        context.Properties.UpdateTokenValue("expires_at",
            time.GetUtcNow().AddSeconds(refreshed.ExpiresInSeconds).ToString("o", CultureInfo.InvariantCulture));
        context.ShouldRenew = true;
    }

    private sealed record Refreshed(string AccessToken, string IdToken, IReadOnlyList<Claim> IdTokenClaims, string Issuer, string? RefreshToken,
        int ExpiresInSeconds);

    private async Task<Refreshed?> RedeemAsync(string refreshToken, string subject, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        try
        {
            var configuration = await realm.GetConfigurationAsync(cancellationToken);
            var client = httpClientFactory.CreateClient(HttpClientName);
            using var response = await client.PostAsync(configuration.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["refresh_token"] = refreshToken,
                ["client_id"] = settings.ClientId,
                ["client_secret"] = settings.ClientSecret,
            }), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogInformation("The realm refused to refresh a session (HTTP {Status})", (int)response.StatusCode);
                return null;
            }
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var root = document.RootElement;
            var idToken = root.GetProperty("id_token").GetString() ?? throw new JsonException("The refresh response has no id_token.");
            // OpenID Connect Core 12.2: the refreshed id_token is checked like the first one (no nonce
            // this time), and must name the same person.
            var validated = await realm.ValidateAsync(idToken, null, cancellationToken);
            if (!validated.IsValid)
            {
                logger.LogWarning("The id_token of a refresh was refused: {Reason}", validated.Exception?.Message);
                return null;
            }
            var claims = validated.ClaimsIdentity.Claims.ToList();
            if (claims.FirstOrDefault(c => c.Type == "sub")?.Value != subject)
            {
                logger.LogWarning("The id_token of a refresh names another subject; the session ends");
                return null;
            }
            return new Refreshed(
                root.GetProperty("access_token").GetString()!,
                idToken,
                claims,
                validated.Issuer ?? configuration.Issuer,
                root.TryGetProperty("refresh_token", out var rt) ? rt.GetString() : null,
                root.TryGetProperty("expires_in", out var ei) && ei.TryGetInt32(out var seconds) ? seconds : 300);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
            or SecurityTokenException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Refreshing a session failed: {Reason}", ex.Message);
            return null;
        }
    }
}
