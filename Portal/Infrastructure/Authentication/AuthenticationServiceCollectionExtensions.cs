using Cogrion.Jobs;
using Cogrion.Jobs.Recurring;
using Cogrion.Portal.Infrastructure.Authentication.Sessions;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Cogrion.Portal.Infrastructure.Authentication;

public static class AuthenticationServiceCollectionExtensions
{
    /// <summary>The scheme name of the Keycloak sign-in (the framework's OpenID Connect handler).</summary>
    public const string KeycloakScheme = "keycloak";
    public const string CallbackPath = "/signin-oidc";
    public const string SessionCookieName = "cogrion.session";

    /// <summary>Picks where a challenge goes: background requests get a 401, people go to Keycloak.</summary>
    private const string ChallengeScheme = "portal-challenge";

    /// <summary>
    /// Sign-in with Keycloak through the framework's OpenID Connect handler (discovery, JWKS with key
    /// rotation, nonce, PKCE, PAR when the realm offers it), server-side sessions in PostgreSQL with a
    /// cookie that holds only the session's key, realm and client roles mapped to policies, and every
    /// page behind sign-in unless it opts out. See docs/adr/0057-openid-connect-handler.md and
    /// docs/adr/0058-server-side-sessions-and-back-channel-logout.md.
    /// </summary>
    public static WebApplicationBuilder AddPortalAuthentication(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<KeycloakOptions, KeycloakOptionsValidator>(builder.Configuration, KeycloakOptions.Section);
        services.AddHttpClient(SessionRefresher.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(15));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<UserDirectory>();
        services.TryAddSingleton<RealmTokens>();
        services.TryAddSingleton<SessionRefresher>();
        services.TryAddSingleton<PostgresTicketStore>();
        services.TryAddSingleton<SessionRevocations>();
        services.TryAddSingleton<BackChannelLogout>();
        services.TryAddScoped<KeycloakOpenIdConnectEvents>();
        services.AddNotificationSubscriber<SessionEndNotifications>();
        // Registered before the Blazor services, whose TryAdd then keeps this one.
        services.AddScoped<AuthenticationStateProvider, SessionAuthenticationStateProvider>();
        services.AddJobHandler<PruneSessionsHandler, PruneSessionsJob>();
        services.AddRecurringJob("authentication.prune-sessions", JobSchedule.Every(TimeSpan.FromHours(1)), new PruneSessionsJob());

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                options.DefaultChallengeScheme = ChallengeScheme;
            })
            .AddPolicyScheme(ChallengeScheme, null, options => options.ForwardDefaultSelector = context =>
                // A background request is answered 401 by the cookie handler without asking the realm
                // anything (no discovery, no pushed request): the realm being away cannot turn it into a 500.
                ApiProblems.IsBackgroundRequest(context.Request) ? CookieAuthenticationDefaults.AuthenticationScheme : KeycloakScheme)
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
                options.Events.OnRedirectToLogin = context =>
                    ApiProblems.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "Authentication required.",
                        "Sign in through the Portal, or present the credentials this API expects.");
                options.Events.OnRedirectToAccessDenied = context => ApiProblems.IsBackgroundRequest(context.Request)
                    ? ApiProblems.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, "You are not allowed to do this.")
                    : Redirect(context);
            })
            .AddOpenIdConnect(KeycloakScheme, "Keycloak", _ => { });

        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<PostgresTicketStore>((cookie, store) => cookie.SessionStore = store);
        services.AddOptions<OpenIdConnectOptions>(KeycloakScheme).Configure<IOptions<KeycloakOptions>>((oidc, keycloak) =>
        {
            var settings = keycloak.Value;
            oidc.Authority = settings.RealmUrl;
            oidc.RequireHttpsMetadata = settings.RequireHttps;
            oidc.ClientId = settings.ClientId;
            oidc.ClientSecret = settings.ClientSecret;
            oidc.ResponseType = OpenIdConnectResponseType.Code;
            // The realm answers with a plain redirect (query), not form_post: the correlation and
            // nonce cookies can then be SameSite=Lax, which browsers send on that top-level GET over
            // http as well as https. form_post needs SameSite=None, which needs Secure, which fails
            // over plain http on any host but loopback. PKCE makes a code in the URL worthless on its own.
            oidc.ResponseMode = OpenIdConnectResponseMode.Query;
            oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
            oidc.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            oidc.NonceCookie.SameSite = SameSiteMode.Lax;
            oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            oidc.UsePkce = true;
            oidc.PushedAuthorizationBehavior = PushedAuthorizationBehavior.UseIfAvailable;
            oidc.CallbackPath = CallbackPath;
            oidc.SaveTokens = true;
            // Keycloak puts what the Portal needs into the id_token; no userinfo round trip.
            oidc.GetClaimsFromUserInfoEndpoint = false;
            // Claims keep their JWT names; KeycloakClaims maps them once, in one place.
            oidc.MapInboundClaims = false;
            oidc.UseTokenLifetime = false;
            oidc.DisableTelemetry = true;
            oidc.Scope.Clear();
            foreach (var scope in new[] { "openid", "profile", "email" }) oidc.Scope.Add(scope);
            oidc.TokenValidationParameters.ClockSkew = settings.ClockSkew;
            oidc.TokenValidationParameters.NameClaimType = "preferred_username";
            // The least time between two fetches of the realm's keys when a token names an unknown one.
            oidc.RefreshInterval = settings.KeySetRefreshInterval;
            oidc.EventsType = typeof(KeycloakOpenIdConnectEvents);
        });

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<KeycloakOptions>>((authorization, keycloak) =>
            authorization.AddPolicy(PortalPolicies.PlatformAdmin, policy => policy.RequireAuthenticatedUser()
                .RequireRole(keycloak.Value.PlatformAdminRole)));
        services.AddCascadingAuthenticationState();
        return builder;
    }

    private static Task Redirect<TOptions>(RedirectContext<TOptions> context) where TOptions : AuthenticationSchemeOptions
    {
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
