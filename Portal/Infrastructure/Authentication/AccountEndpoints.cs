using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>Sign-in, sign-out and "who am I". Sign-out ends the Keycloak session too.</summary>
public static class AccountEndpoints
{
    public const string SignedOutPath = "/signed-out";

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/account/signin", (string? returnUrl) =>
                TypedResults.Challenge(new AuthenticationProperties { RedirectUri = LocalOrHome(returnUrl) }, [AuthenticationServiceCollectionExtensions.KeycloakScheme]))
            .AllowAnonymous();

        endpoints.MapPost("/account/signout", SignOutAsync).WithMetadata(new UserScopedAttribute());

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

    private static async Task<IResult> SignOutAsync(HttpContext context, IAntiforgery antiforgery, AuditLog audit, IOptions<KeycloakOptions> keycloak)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The sign-out form has expired.", detail: "Reload the page and sign out again.");

        var idToken = await context.GetTokenAsync("id_token");
        if (context.User.GetUserId() is { } userId)
        {
            await audit.RecordAsync(new AuditEntry(Actor.User(userId, context.User.GetUsername()), "session.signed_out",
                TargetKind: "user", TargetId: userId.ToString()), context.RequestAborted);
        }
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);

        var signedOut = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{SignedOutPath}";
        if (idToken is null) return TypedResults.Redirect(signedOut);

        // RP-initiated logout: with id_token_hint Keycloak ends its session without asking, then returns here.
        var settings = keycloak.Value;
        var endSession = QueryHelpers.AddQueryString(settings.EndSessionEndpoint, new Dictionary<string, string?>
        {
            ["id_token_hint"] = idToken,
            ["client_id"] = settings.ClientId,
            ["post_logout_redirect_uri"] = signedOut,
        });
        return TypedResults.Redirect(endSession);
    }

    /// <summary>Only local paths: an open redirect after sign-in would hand the session to a phishing page.</summary>
    internal static string LocalOrHome(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            ? returnUrl
            : "/dashboard";
}
