using System.Net;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Hosting;

public sealed class HostTests
{
    private static async Task<PortalAppFactory> PortalAsync()
    {
        var server = await PostgresServer.GetAsync();
        return new PortalAppFactory(server.ConnectionString(await server.CreateMigratedDatabaseAsync("host")));
    }

    [Fact]
    public async Task A_page_without_a_session_redirects_to_the_realm_authorization_endpoint_with_a_pushed_pkce_request()
    {
        await using var portal = await PortalAsync();
        var idp = await PortalAppFactory.SharedIdentityProviderAsync();
        var client = portal.CreateNonRedirectingClient();

        var response = await client.GetAsync("/dashboard");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        // The realm offers pushed authorization requests, so the handler pushed the request (with its
        // PKCE challenge and nonce) server to server; the browser only carries a reference to it.
        Assert.StartsWith($"{idp.Issuer}/protocol/openid-connect/auth?", location);
        Assert.Contains("client_id=cogrion-portal", location);
        Assert.Contains("request_uri=urn", location);
        Assert.DoesNotContain(TestSettings.ClientSecret, location);

        // The realm requires PKCE S256 (tools/dev-idp): it accepts the pushed request and shows its login page.
        using var browser = new HttpClient();
        var login = await browser.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Contains("id=\"kc-login\"", await login.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_api_request_without_a_session_gets_401_problem_details()
    {
        await using var portal = await PortalAsync();
        var client = portal.CreateNonRedirectingClient();

        var response = await client.GetAsync("/api/v1/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"status\":401", body);
    }

    [Fact]
    public async Task The_landing_page_is_public()
    {
        await using var portal = await PortalAsync();
        var client = portal.CreateNonRedirectingClient();

        var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Sign in", html);
        Assert.DoesNotContain("_framework/blazor.web.js", html);
    }

    [Fact]
    public async Task Brand_assets_are_served_without_a_session()
    {
        await using var portal = await PortalAsync();
        var client = portal.CreateNonRedirectingClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/assets/logo.svg")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/assets/theme.css")).StatusCode);
    }

    [Fact]
    public async Task Liveness_and_readiness_are_healthy_once_migrated()
    {
        await using var portal = await PortalAsync();
        var client = portal.CreateNonRedirectingClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var ready = await Eventually.StatusAsync(client, "/readyz", HttpStatusCode.OK);
        Assert.Contains("Schema version", ready);
    }

    [Fact]
    public async Task Readiness_is_503_when_the_database_goes_away_while_liveness_stays_200()
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateMigratedDatabaseAsync("gone");
        await using var portal = new PortalAppFactory(server.ConnectionString(database));
        var client = portal.CreateNonRedirectingClient();
        await Eventually.StatusAsync(client, "/readyz", HttpStatusCode.OK);

        await server.DropDatabaseAsync(database);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Readiness_is_503_and_says_why_while_the_database_is_unreachable()
    {
        await using var portal = new PortalAppFactory($"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres;Database=nowhere;Timeout=2");
        var client = portal.CreateNonRedirectingClient();

        var response = await client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("database", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("https://evil.example/", "/dashboard")]
    [InlineData("//evil.example/", "/dashboard")]
    [InlineData("/\\evil.example/", "/dashboard")]
    [InlineData(null, "/dashboard")]
    [InlineData("/audit?x=1", "/audit?x=1")]
    public void After_sign_in_the_user_only_returns_to_a_local_path(string? returnUrl, string expected) =>
        Assert.Equal(expected, AccountEndpoints.LocalOrHome(returnUrl));
}
