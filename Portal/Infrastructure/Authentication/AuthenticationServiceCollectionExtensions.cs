using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Infrastructure.Authentication;

public static class AuthenticationServiceCollectionExtensions
{
    /// <summary>The scheme name of the Keycloak sign-in (OpenID Connect code flow with PKCE on the framework's OAuth handler).</summary>
    public const string KeycloakScheme = "keycloak";
    public const string CallbackPath = "/signin-oidc";
    public const string SessionCookieName = "cogrion.session";

    /// <summary>
    /// Sign-in with Keycloak: cookie session, code flow with PKCE, claims from the validated id_token,
    /// realm roles mapped to policies, every page behind sign-in unless it opts out.
    /// See docs/adr/0003-oidc-with-the-oauth-handler.md for why this is not the OpenIdConnect handler.
    /// </summary>
    public static WebApplicationBuilder AddPortalAuthentication(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<KeycloakOptions, KeycloakOptionsValidator>(builder.Configuration, KeycloakOptions.Section);
        services.AddHttpClient(IdTokenValidator.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(15));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IdTokenValidator>();
        services.TryAddSingleton<SessionRefresher>();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                options.DefaultChallengeScheme = KeycloakScheme;
            })
            .AddCookie(options =>
            {
                options.Cookie.Name = SessionCookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.ExpireTimeSpan = TimeSpan.FromHours(8);
                options.SlidingExpiration = true;
                options.AccessDeniedPath = "/access-denied";
                options.Events.OnValidatePrincipal = context =>
                    context.HttpContext.RequestServices.GetRequiredService<SessionRefresher>().ValidatePrincipalAsync(context);
                options.Events.OnRedirectToAccessDenied = context => ApiProblems.IsBackgroundRequest(context.Request)
                    ? ApiProblems.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, "You are not allowed to do this.")
                    : Redirect(context);
            })
            .AddOAuth(KeycloakScheme, "Keycloak", _ => { });

        services.AddOptions<OAuthOptions>(KeycloakScheme).Configure<IOptions<KeycloakOptions>>((oauth, keycloak) =>
        {
            var settings = keycloak.Value;
            oauth.ClientId = settings.ClientId;
            oauth.ClientSecret = settings.ClientSecret;
            oauth.AuthorizationEndpoint = settings.AuthorizationEndpoint;
            oauth.TokenEndpoint = settings.TokenEndpoint;
            oauth.UserInformationEndpoint = settings.UserInfoEndpoint;
            oauth.CallbackPath = CallbackPath;
            oauth.UsePkce = true;
            oauth.SaveTokens = true;
            oauth.Scope.Clear();
            foreach (var scope in new[] { "openid", "profile", "email" }) oauth.Scope.Add(scope);
            oauth.CorrelationCookie.SameSite = SameSiteMode.Lax;
            oauth.Events.OnCreatingTicket = OnCreatingTicketAsync;
            oauth.Events.OnRedirectToAuthorizationEndpoint = context => ApiProblems.IsBackgroundRequest(context.Request)
                ? ApiProblems.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "Authentication required.", "Sign in through the Portal, or present the credentials this API expects.")
                : Redirect(context);
            oauth.Events.OnRemoteFailure = OnRemoteFailureAsync;
        });

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<KeycloakOptions>>((authorization, keycloak) =>
            authorization.AddPolicy(PortalPolicies.PlatformAdmin, policy => policy.RequireAuthenticatedUser().RequireRole(keycloak.Value.PlatformAdminRole)));
        services.AddCascadingAuthenticationState();
        return builder;
    }

    private static Task Redirect<TOptions>(RedirectContext<TOptions> context) where TOptions : AuthenticationSchemeOptions
    {
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    private static async Task OnCreatingTicketAsync(OAuthCreatingTicketContext context)
    {
        var services = context.HttpContext.RequestServices;
        var settings = services.GetRequiredService<IOptions<KeycloakOptions>>().Value;
        var idToken = context.TokenResponse.Response?.RootElement.TryGetProperty("id_token", out var value) == true ? value.GetString() : null;
        var payload = await services.GetRequiredService<IdTokenValidator>().ValidateAsync(idToken, context.HttpContext.RequestAborted);

        var identity = context.Identity!;
        identity.AddClaims(KeycloakClaims.FromIdToken(payload, settings.Issuer));
        // Kept for sign-out (id_token_hint) and for the refresh to compare against.
        context.Properties.UpdateTokenValue("id_token", idToken!);
        if (context.Properties.GetTokenValue("id_token") is null)
            context.Properties.StoreTokens([.. context.Properties.GetTokens(), new AuthenticationToken { Name = "id_token", Value = idToken! }]);

        var user = await services.GetRequiredService<UserDirectory>().RecordSignInAsync(context.Principal!, context.HttpContext.RequestAborted);
        identity.AddClaim(new Claim(PortalClaims.UserId, user.Id.ToString()));
    }

    private static Task OnRemoteFailureAsync(RemoteFailureContext context)
    {
        var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Cogrion.Portal.SignIn");
        // The failure message comes from our own validation or the provider's error code; it carries no token.
        logger.LogWarning("Sign-in failed: {Reason}", context.Failure?.Message);
        context.Response.Redirect("/signin-error");
        context.HandleResponse();
        return Task.CompletedTask;
    }
}
