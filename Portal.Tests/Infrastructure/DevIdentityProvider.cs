using System.Net.Http.Json;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The real dev identity provider (tools/dev-idp, oidc-provider shaped like a Keycloak realm) as a
/// child process on a free loopback port, registered for the Portal addresses the test gives it.
/// </summary>
public sealed class DevIdentityProvider : IAsyncDisposable
{
    public static readonly (string Username, string Password) Admin = ("admin", "admin-pass");
    public static readonly (string Username, string Password) Alice = ("alice", "alice-pass");
    public static readonly (string Username, string Password) Bob = ("bob", "bob-pass");
    public static readonly (string Username, string Password) Carol = ("carol", "carol-pass");
    public static readonly (string Username, string Password) Dave = ("dave", "dave-pass");
    public static readonly (string Username, string Password) Erin = ("erin", "erin-pass");
    /// <summary>A platform admin by a role of the Portal's client (resource_access), not a realm role.</summary>
    public static readonly (string Username, string Password) Frank = ("frank", "frank-pass");

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly ChildProcess process;

    public string Authority { get; }
    public string Output => process.Output;

    private DevIdentityProvider(ChildProcess process, string authority)
    {
        this.process = process;
        Authority = authority;
    }

    /// <summary>
    /// Starts the provider on a free port, or on <paramref name="port"/> (to restart one in place). It posts
    /// back-channel logouts to <paramref name="backChannelPortal"/> (default: the first Portal address), and
    /// has its test-only controls on (<see cref="MisbehaveAsync"/>, <see cref="SignAsync"/>).
    /// </summary>
    public static async Task<DevIdentityProvider> StartAsync(IReadOnlyList<string> portalBaseUrls, int? port = null, string? backChannelPortal = null)
    {
        if (!Directory.Exists(Path.Combine(RepoPaths.DevIdp, "node_modules", "oidc-provider")))
            throw new InvalidOperationException("The dev identity provider's packages are not installed: run tools/test.sh, or 'npm ci' in " +
                "tools/dev-idp.");
        var listenPort = port ?? FreePort.Next();
        var authority = $"http://127.0.0.1:{listenPort}";
        var process = ChildProcess.Start("dev-idp", "node", ["server.mjs"], new Dictionary<string, string?>
        {
            ["DEV_IDP_HOST"] = "127.0.0.1",
            ["DEV_IDP_PORT"] = listenPort.ToString(),
            ["DEV_IDP_REALM"] = TestSettings.Realm,
            ["DEV_IDP_CLIENT_ID"] = TestSettings.ClientId,
            ["DEV_IDP_CLIENT_SECRET"] = TestSettings.ClientSecret,
            ["DEV_IDP_REDIRECT_URIS"] = string.Join(',', portalBaseUrls.Select(u => u + "/signin-oidc")),
            ["DEV_IDP_POST_LOGOUT_REDIRECT_URIS"] = string.Join(',', portalBaseUrls.Select(u => u + "/signed-out")),
            ["DEV_IDP_BACKCHANNEL_LOGOUT_URI"] = (backChannelPortal ?? portalBaseUrls[0]) + "/account/backchannel-logout",
            ["DEV_IDP_TEST_CONTROLS"] = "1",
            // Ends when this process ends, however it ends (ChildProcess holds its standard input open).
            ["DEV_IDP_EXIT_WITH_STDIN"] = "1",
        }, RepoPaths.DevIdp);
        await process.WaitForOutputAsync("dev-idp ready:", TimeSpan.FromSeconds(30));
        return new DevIdentityProvider(process, authority);
    }

    public int Port => new Uri(Authority).Port;

    /// <summary>Fills in and submits this provider's login form (Keycloak's labels) once the browser is on it.</summary>
    public async Task SubmitLoginFormAsync(IPage page, (string Username, string Password) user)
    {
        await page.WaitForURLAsync(url => url.StartsWith(Authority, StringComparison.Ordinal));
        await page.GetByLabel("Username or email").FillAsync(user.Username);
        await page.GetByLabel("Password").FillAsync(user.Password);
        await LoginButton(page).ClickAsync();
    }

    /// <summary>The login form's submit button: visible when the provider asks for credentials.</summary>
    public static ILocator LoginButton(IPage page) => page.GetByRole(AriaRole.Button, new() { Name = "Sign In" });

    /// <summary>How many token requests (code redemptions and refreshes) the provider has granted.</summary>
    public int TokenRequests => Output.Split('\n')
        .Count(line => line.StartsWith("POST /realms/", StringComparison.Ordinal)
        && line.Contains("/protocol/openid-connect/token 200 ", StringComparison.Ordinal));

    /// <summary>How many back-channel logouts the provider delivered (the Portal answered 200).</summary>
    public int BackChannelLogoutsDelivered => Output.Split('\n')
        .Count(line => line.StartsWith("dev-idp backchannel.success:", StringComparison.Ordinal));

    /// <summary>Makes the next token response carry a tampered id_token (one of the modes of tools/dev-idp/lib/test-controls.mjs).</summary>
    public async Task MisbehaveAsync(string idTokenMode)
    {
        using var response = await Http.PostAsync($"{Authority}/__test/misbehave", JsonContent.Create(new { idToken = idTokenMode }));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A JWT with these claims, signed with the realm's own key (or, with <paramref name="foreignKey"/>, a key it never published, under the
    /// realm's kid).</summary>
    public async Task<string> SignAsync(object claims, bool foreignKey = false)
    {
        using var response = await Http.PostAsync($"{Authority}/__test/sign{(foreignKey ? "?foreign=1" : "")}", JsonContent.Create(claims));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SignedToken>())!.Token;
    }

    private sealed record SignedToken(string Token);

    public string Issuer => $"{Authority}/realms/{TestSettings.Realm}";

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
