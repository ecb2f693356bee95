using System.Net;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Hosting;

/// <summary>
/// Behind a TLS-terminating proxy the Portal sees http and the proxy's hop, yet must send Keycloak the
/// redirect URI the browser can use: https and the public host, from X-Forwarded-Proto/Host, taken
/// only from a known proxy (loopback here; ReverseProxy:KnownProxies/KnownNetworks in production). The
/// dev identity provider knows only the public https address, so a wrong redirect URI is refused.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private const string PublicUrl = "https://portal.cogrion.test";

    [Fact]
    public async Task Behind_a_known_proxy_the_sign_in_redirect_uri_uses_the_forwarded_scheme_and_host()
    {
        var database = await PostgresServer.GetAsync();
        var name = await database.CreateMigratedDatabaseAsync("forwarded");
        await using var idp = await DevIdentityProvider.StartAsync([PublicUrl]);
        await using var portal = await PortalServer.StartAsync(database.ConnectionString(name), overrides: new Dictionary<string, string?>
        {
            ["Keycloak:Authority"] = idp.Authority,
            ["ReverseProxy:AllowedHosts:0"] = "portal.cogrion.test",
        });
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(portal.BaseUrl) };

        // As nginx forwards it: the browser asked https://portal.cogrion.test/dashboard.
        using var proxied = new HttpRequestMessage(HttpMethod.Get, "/dashboard");
        proxied.Headers.Add("X-Forwarded-Proto", "https");
        proxied.Headers.Add("X-Forwarded-Host", "portal.cogrion.test");
        using var challenge = await http.SendAsync(proxied);

        // Off to the identity provider, which accepted the redirect URI (it knows only the public one).
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        Assert.StartsWith(idp.Authority, challenge.Headers.Location!.ToString(), StringComparison.Ordinal);
        var correlation = challenge.Headers.GetValues("Set-Cookie").Where(c => c.Contains(".AspNetCore.Correlation", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(correlation);
        Assert.All(correlation, cookie => Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase));

        // The same request straight to the replica names the replica's own http address: refused.
        using var direct = await http.GetAsync("/dashboard");
        Assert.False(direct.StatusCode == HttpStatusCode.Redirect && direct.Headers.Location!.ToString()
            .StartsWith(idp.Authority, StringComparison.Ordinal),
            "the identity provider accepted a redirect URI it does not know");

        // A forwarded host outside ReverseProxy:AllowedHosts is ignored, so it cannot choose where sign-in returns.
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, "/dashboard");
        spoofed.Headers.Add("X-Forwarded-Proto", "https");
        spoofed.Headers.Add("X-Forwarded-Host", "evil.example");
        using var refused = await http.SendAsync(spoofed);
        Assert.False(refused.StatusCode == HttpStatusCode.Redirect && refused.Headers.Location!.ToString()
            .StartsWith(idp.Authority, StringComparison.Ordinal),
            "a forwarded host outside the allowed hosts was used");
        await database.DropDatabaseAsync(name);
    }
}
