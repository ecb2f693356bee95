using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication.Sessions;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>Sign-in, sign-out (of the Portal and of Keycloak), "who am I", and Keycloak's back-channel logout.</summary>
public static class AccountEndpoints
{
    public const string SignInPath = "/account/signin";
    public const string SignedOutPath = "/signed-out";
    public const string BackChannelLogoutPath = "/account/backchannel-logout";

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SignInPath, (string? returnUrl, string? fresh) =>
            {
                var properties = new AuthenticationProperties { RedirectUri = LocalOrHome(returnUrl) };
                // Set after "sign out everywhere": the realm must ask for the password, not reuse its session.
                if (fresh == "1") properties.Items[KeycloakOpenIdConnectEvents.ForceLoginItem] = "1";
                return TypedResults.Challenge(properties, [AuthenticationServiceCollectionExtensions.KeycloakScheme]);
            })
            .AllowAnonymous();

        endpoints.MapPost("/account/signout", SignOutAsync).WithMetadata(new UserScopedAttribute());

        // Keycloak posts here (server to server, no cookies) when a realm session ends, so every
        // Portal session of it ends too. Anonymous by nature: the signed logout token is the credential.
        endpoints.MapPost(BackChannelLogoutPath, BackChannelLogoutAsync).AllowAnonymous().DisableAntiforgery();

        endpoints.MapGet("/api/v1/me", (HttpContext context) =>
        {
            var user = context.User;
            return TypedResults.Ok(new
            {
                id = user.GetUserId(),
                username = user.GetUsername(),
                email = user.FindFirst(System.Security.Claims.ClaimTypes.Email)?.Value,
                roles = user.GetRoles(),
            });
        }).WithMetadata(new UserScopedAttribute());
        return endpoints;
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, IAntiforgery antiforgery, AuditLog audit)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The sign-out form has expired.",
                detail: "Reload the page and sign out again.");

        if (context.User.GetUserId() is { } userId)
        {
            await audit.RecordAsync(new AuditEntry(Actor.User(userId, context.User.GetUsername()), "session.signed_out",
                TargetKind: "user", TargetId: userId.ToString()), context.RequestAborted);
        }
        // Both schemes: the cookie handler deletes the server-side session (every replica and open
        // circuit sees it end), then the OpenID Connect handler sends the browser to the realm's
        // end-session endpoint with id_token_hint, so Keycloak ends its session without asking and
        // returns to the signed-out page.
        return TypedResults.SignOut(new AuthenticationProperties { RedirectUri = SignedOutPath },
            [CookieAuthenticationDefaults.AuthenticationScheme, AuthenticationServiceCollectionExtensions.KeycloakScheme]);
    }

    private static async Task<IResult> BackChannelLogoutAsync(HttpContext context, BackChannelLogout logout, SessionRevocations sessions,
        AuditLog audit, ILoggerFactory loggers)
    {
        context.Response.Headers.CacheControl = "no-store";
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
        var (request, refusal) = await logout.ValidateAsync(form?["logout_token"].ToString(), context.RequestAborted);
        if (request is null)
        {
            loggers.CreateLogger("Cogrion.Portal.SignIn").LogWarning("Refused a back-channel logout: {Reason}", refusal);
            // Back-Channel Logout 1.0, 2.8: 400 with an OAuth error code.
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The logout token was refused.", detail: refusal,
                extensions: new Dictionary<string, object?> { ["error"] = "invalid_request" });
        }

        var ended = await sessions.EndForLogoutTokenAsync(request.Subject, request.SessionId, context.RequestAborted);
        await audit.RecordAsync(new AuditEntry(Actor.System("keycloak"), "session.backchannel_logout",
            TargetKind: "subject", TargetId: request.Subject ?? request.SessionId,
            Details: new { sessions_ended = ended, by = request.SessionId is null ? "subject" : "realm_session" }), context.RequestAborted);
        return TypedResults.Ok();
    }

    /// <summary>Only local paths: an open redirect after sign-in would hand the session to a phishing page.</summary>
    internal static string LocalOrHome(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal)
            && !returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            ? returnUrl
            : "/dashboard";
}
