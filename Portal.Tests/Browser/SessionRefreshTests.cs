using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// The session refreshes its tokens before they expire, and when the realm refuses (its session is
/// gone) the user is signed in again cleanly, with tokens signed by the realm's new key (key rotation:
/// the Portal fetches the realm's keys again when a token names one it does not know). Runs its own
/// provider and Portal: it restarts the provider.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SessionRefreshTests
{
    [Fact]
    public async Task A_session_due_for_refresh_is_refreshed_and_one_the_realm_forgot_signs_in_again()
    {
        var database = await PostgresServer.GetAsync();
        var name = await database.CreateMigratedDatabaseAsync("refresh");
        var baseUrl = PortalProcess.NextBaseUrl();
        var idp = await DevIdentityProvider.StartAsync([baseUrl]);
        // Refresh when less than 30 minutes remain: with Keycloak's 5-minute tokens, every request is due.
        await using var portal = await PortalProcess.StartAsync(baseUrl, database.ConnectionString(name), idp.Authority,
            new Dictionary<string, string?>
            {
                ["Keycloak:RefreshBeforeExpiry"] = "00:30:00",
                // The realm's keys may be fetched again a second after the last fetch.
                ["Keycloak:KeySetRefreshInterval"] = "00:00:01",
            });
        var browser = await BrowserHost.GetAsync();
        var context = await browser.NewContextAsync(new() { BaseURL = baseUrl });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/dashboard");
        await idp.SubmitLoginFormAsync(page, DevIdentityProvider.Dave);
        // Back in the Portal (dave has no tenant yet, so /dashboard sends him on to onboarding).
        await page.WaitForURLAsync(url => url.StartsWith(baseUrl, StringComparison.Ordinal) && !url.Contains("/signin-oidc", StringComparison.Ordinal)
            && !url.EndsWith("/dashboard", StringComparison.Ordinal));
        var grantsAfterSignIn = idp.TokenRequests;

        await page.GotoAsync("/audit");

        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Your account" }).GetByText("dave", new() { Exact = true }))
            .ToBeVisibleAsync();
        Assert.True(idp.TokenRequests > grantsAfterSignIn, "the page load should have refreshed the tokens");

        // The provider restarts and forgets every session: the refresh token is now worthless.
        var port = idp.Port;
        await idp.DisposeAsync();
        await using var restarted = await DevIdentityProvider.StartAsync([baseUrl], port);

        await page.GotoAsync("/audit");

        await page.WaitForURLAsync(url => url.StartsWith(restarted.Authority, StringComparison.Ordinal));
        await Assertions.Expect(DevIdentityProvider.LoginButton(page)).ToBeVisibleAsync();

        // The restarted realm signs with a new key (a new kid): signing in again works all the same.
        await restarted.SubmitLoginFormAsync(page, DevIdentityProvider.Dave);
        await page.WaitForURLAsync(url => url.StartsWith(baseUrl + "/audit", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Your account" }).GetByText("dave", new() { Exact = true }))
            .ToBeVisibleAsync();
        Assert.Contains("certs 200", restarted.Output);
        await context.CloseAsync();
    }
}
