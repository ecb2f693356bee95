using System.Security.Claims;
using Cogrion.Portal.Infrastructure.Authentication.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>
/// What the Portal adds to the OpenID Connect handler's sign-in: Keycloak's claims turned into a
/// Portal identity (roles expanded from JSON), the person recorded, a sign-in that reuses a realm
/// session from before "sign out everywhere" sent back for a password, and failures shown as a
/// page rather than an exception.
/// </summary>
public sealed class KeycloakOpenIdConnectEvents(
    IOptions<KeycloakOptions> keycloak,
    UserDirectory users,
    SessionRevocations revocations,
    ILogger<KeycloakOpenIdConnectEvents> logger) : OpenIdConnectEvents
{
    /// <summary>The authentication property that asks the realm for a fresh password prompt (<c>prompt=login</c>).</summary>
    public const string ForceLoginItem = "cogrion.force_login";

    /// <summary>Marks the one sign-in retried because the realm had rotated its keys, so it is never retried twice.</summary>
    private const string KeyRotationRetryItem = "cogrion.key_rotation_retry";

    public override Task RedirectToIdentityProvider(RedirectContext context)
    {
        if (context.Properties.Items.ContainsKey(ForceLoginItem))
            context.ProtocolMessage.Prompt = "login";
        return Task.CompletedTask;
    }

    public override async Task TokenValidated(TokenValidatedContext context)
    {
        var settings = keycloak.Value;
        var tokenClaims = context.Principal!.Claims.ToList();
        var issuer = tokenClaims.FirstOrDefault(c => c.Type == "iss")?.Value ?? settings.RealmUrl;
        var identity = KeycloakClaims.ToPortalIdentity(tokenClaims, settings.ClientId, issuer);
        var subject = identity.FindFirst(PortalClaims.Subject)?.Value;
        if (subject is null)
        {
            context.Fail("The id_token names no subject (sub).");
            return;
        }

        // After "sign this user out everywhere" the realm may still hold the person's single sign-on
        // session and would sign them straight back in. A login older than the revocation must be redone.
        var authTime = long.TryParse(tokenClaims.FirstOrDefault(c => c.Type == "auth_time")?.Value, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : (DateTimeOffset?)null;
        if (await revocations.RequiresFreshLoginAsync(subject, authTime, context.HttpContext.RequestAborted))
        {
            logger.LogInformation("A sign-in reused a realm session from before the user was signed out everywhere; asking for the password again");
            var returnUrl = context.Properties?.RedirectUri ?? "/dashboard";
            context.HandleResponse();
            var back = Uri.EscapeDataString(AccountEndpoints.LocalOrHome(returnUrl));
            context.Response.Redirect($"{context.Request.PathBase}{AccountEndpoints.SignInPath}?returnUrl={back}&fresh=1");
            return;
        }

        var principal = new ClaimsPrincipal(identity);
        var user = await users.RecordSignInAsync(principal, context.HttpContext.RequestAborted);
        identity.AddClaim(new Claim(PortalClaims.UserId, user.Id.ToString()));
        context.Principal = principal;
    }

    public override async Task RemoteFailure(RemoteFailureContext context)
    {
        // The realm rotated its keys: the id_token names a key the Portal has not fetched yet. The handler
        // has already asked for the keys again; sign in once more (the realm's session makes that silent)
        // rather than show the person an error for the realm's housekeeping.
        if (context.Failure is SecurityTokenSignatureKeyNotFoundException && context.Properties is { } failed
            && !failed.Items.ContainsKey(KeyRotationRetryItem))
        {
            logger.LogInformation("The realm signed with a key not seen yet (it rotated its keys); signing in once more with its keys fetched again");
            var retry = new AuthenticationProperties { RedirectUri = AccountEndpoints.LocalOrHome(failed.RedirectUri) };
            retry.Items[KeyRotationRetryItem] = "1";
            context.HandleResponse();
            await context.HttpContext.ChallengeAsync(AuthenticationServiceCollectionExtensions.KeycloakScheme, retry);
            return;
        }
        // The message comes from the handler's validation or the provider's error code; it carries no token.
        logger.LogWarning("Sign-in failed: {Reason}", context.Failure?.Message);
        context.Response.Redirect($"{context.Request.PathBase}/signin-error");
        context.HandleResponse();
    }

    public override Task RedirectToIdentityProviderForSignOut(RedirectContext context)
    {
        // Keycloak comes back to the signed-out page, which is registered as the post-logout redirect URI.
        var request = context.Request;
        context.ProtocolMessage.PostLogoutRedirectUri = $"{request.Scheme}://{request.Host}{request.PathBase}{AccountEndpoints.SignedOutPath}";
        context.ProtocolMessage.State = null;
        return Task.CompletedTask;
    }
}
