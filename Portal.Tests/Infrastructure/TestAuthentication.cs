using System.Security.Claims;
using System.Text.Encodings.Web;
using Cogrion.Portal.Infrastructure.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// An in-process, test-only way to be signed in as a seeded user: the request names the Portal user
/// id in a header. Registered only by tests (through <see cref="PortalAppFactory.TestServices"/>), never
/// by the Portal: real sign-in is covered end to end by the browser tests. Without the header a
/// request is anonymous, so the Portal's own challenge (redirect to the realm, or 401 under /api) applies.
/// </summary>
public static class TestAuthentication
{
    public const string Scheme = "test";
    public const string UserHeader = "X-Test-User";
    public const string NameHeader = "X-Test-Username";
    public const string RolesHeader = "X-Test-Roles";

    public static void Register(IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, Handler>(Scheme, _ => { });
        // Authenticate with the test scheme; challenges and forbids still go to the Portal's own schemes.
        services.PostConfigure<AuthenticationOptions>(options => options.DefaultAuthenticateScheme = Scheme);
    }

    public static HttpRequestMessage As(this HttpRequestMessage request, TestUser? user)
    {
        if (user is null) return request;
        request.Headers.Add(UserHeader, user.Id.ToString());
        request.Headers.Add(NameHeader, user.Username);
        if (user.PlatformAdmin) request.Headers.Add(RolesHeader, "platform-admin");
        return request;
    }

    private sealed class Handler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(UserHeader, out var userId)) return Task.FromResult(AuthenticateResult.NoResult());
            var claims = new List<Claim>
            {
                new(PortalClaims.UserId, userId.ToString()),
                new(PortalClaims.Subject, "test-" + userId),
                new(ClaimTypes.Name, Request.Headers[NameHeader].ToString()),
            };
            claims.AddRange(Request.Headers[RolesHeader].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(r => new Claim(ClaimTypes.Role, r)));
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, TestAuthentication.Scheme));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, TestAuthentication.Scheme)));
        }
    }
}

/// <summary>A seeded Portal user the tests act as.</summary>
public sealed record TestUser(Guid Id, string Username, bool PlatformAdmin = false)
{
    public ClaimsPrincipal ToPrincipal()
    {
        var claims = new List<Claim> { new(PortalClaims.UserId, Id.ToString()), new(ClaimTypes.Name, Username) };
        if (PlatformAdmin) claims.Add(new Claim(ClaimTypes.Role, "platform-admin"));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, TestAuthentication.Scheme));
    }
}
