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

    private readonly ChildProcess process;

    public string Authority { get; }
    public string Output => process.Output;

    private DevIdentityProvider(ChildProcess process, string authority)
    {
        this.process = process;
        Authority = authority;
    }

    /// <summary>Starts the provider on a free port, or on <paramref name="port"/> (to restart one in place).</summary>
    public static async Task<DevIdentityProvider> StartAsync(IReadOnlyList<string> portalBaseUrls, int? port = null)
    {
        if (!Directory.Exists(Path.Combine(RepoPaths.DevIdp, "node_modules", "oidc-provider")))
            throw new InvalidOperationException("The dev identity provider's packages are not installed: run tools/test.sh, or 'npm ci' in tools/dev-idp.");
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
    public int TokenRequests => Output.Split('\n').Count(line => line.StartsWith("POST /realms/", StringComparison.Ordinal) && line.Contains("/protocol/openid-connect/token 200 ", StringComparison.Ordinal));

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
