using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// Everything a browser test needs, started once per run and shared: a migrated database, the dev
/// identity provider, the real Portal process, and the browser. Browser tests share its data, so
/// they assert on what they created themselves, never on totals.
/// </summary>
public sealed class PortalStack : IAsyncDisposable
{
    private static readonly Lazy<Task<PortalStack>> Shared = new(StartSharedAsync);

    public static Task<PortalStack> GetAsync() => Shared.Value;

    /// <summary>
    /// A stack of the test's own (database, identity provider, Portal process; the browser is shared),
    /// for tests that change users' state in ways other tests must not see (memberships, tenants).
    /// Dispose it at the end of the test. Extra settings may say <c>{baseUrl}</c> for the Portal's own address.
    /// </summary>
    /// With <paramref name="onLocalhost"/> the Portal is at http://localhost:port: WebAuthn needs a domain as its
    /// relying party id, never an IP address.
    public static Task<PortalStack> StartIsolatedAsync(IDictionary<string, string?>? settings = null, bool onLocalhost = false)
    {
        Assertions.SetDefaultExpectTimeout(15_000);
        return StartAsync("isolated", settings, onLocalhost);
    }

    private bool isolated;

    public required PostgresServer Database { get; init; }
    public required string DatabaseName { get; init; }
    public required DevIdentityProvider IdentityProvider { get; init; }
    public required PortalProcess Portal { get; init; }
    public required IBrowser Browser { get; init; }

    public string BaseUrl => Portal.BaseUrl;
    public string ConnectionString => Database.ConnectionString(DatabaseName);

    private static async Task<PortalStack> StartSharedAsync()
    {
        // Expectations wait as long as actions do: on a busy 2-core machine a circuit can take a few seconds to come up.
        Assertions.SetDefaultExpectTimeout(15_000);
        var stack = await StartAsync("browser");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => stack.StopProcessesAsync().GetAwaiter().GetResult();
        return stack;
    }

    private static async Task<PortalStack> StartAsync(string databasePrefix, IDictionary<string, string?>? settings = null, bool onLocalhost = false)
    {
        var database = await PostgresServer.GetAsync();
        var name = await database.CreateMigratedDatabaseAsync(databasePrefix);
        var baseUrl = PortalProcess.NextBaseUrl();
        if (onLocalhost) baseUrl = baseUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        var idp = await DevIdentityProvider.StartAsync([baseUrl]);
        var portal = await PortalProcess.StartAsync(baseUrl, database.ConnectionString(name), idp.Authority,
            settings?.ToDictionary(s => s.Key, s => s.Value?.Replace("{baseUrl}", baseUrl, StringComparison.Ordinal)));
        var browser = await BrowserHost.GetAsync();
        return new PortalStack
        {
            Database = database,
            DatabaseName = name,
            IdentityProvider = idp,
            Portal = portal,
            Browser = browser,
            isolated = databasePrefix != "browser"
        };
    }

    private async Task StopProcessesAsync()
    {
        await Portal.DisposeAsync();
        await IdentityProvider.DisposeAsync();
    }

    /// <summary>Stops an isolated stack's processes and drops its database; the shared stack lives until the run ends.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!isolated) return;
        await StopProcessesAsync();
        await Database.DropDatabaseAsync(DatabaseName);
    }

    /// <summary>A fresh browser context (no cookies) with a page, for one test.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 }
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>
    /// Signs in through the identity provider's real login page and waits for the Portal page asked for.
    /// "/dashboard" is only a door: it sends the person on to their tenant, the onboarding wizard or
    /// the platform overview, so for it the wait is for any Portal page beyond it.
    /// </summary>
    public async Task SignInAsync(IPage page, (string Username, string Password) user, string path = "/dashboard")
    {
        await page.GotoAsync(path);
        await IdentityProvider.SubmitLoginFormAsync(page, user);
        await page.WaitForURLAsync(url => path == "/dashboard"
            ? url.StartsWith(BaseUrl + "/", StringComparison.Ordinal) && !url.StartsWith(BaseUrl + "/dashboard", StringComparison.Ordinal)
                && !url.StartsWith(BaseUrl + "/signin-oidc", StringComparison.Ordinal)
            : url.StartsWith(BaseUrl + path, StringComparison.Ordinal));
        await WaitUntilInteractiveAsync(page);
    }

    /// <summary>
    /// Waits until the circuit has taken over the prerendered page. A click before that can be lost:
    /// the URL changes but the router never renders the new page.
    /// </summary>
    public static async Task WaitUntilInteractiveAsync(IPage page)
    {
        await page.WaitForSelectorAsync("main[data-interactive=true]");
    }

    /// <summary>
    /// Opens a select (a MudSelect, by its label) and picks an option by its name. A click that lands while the page is still
    /// wiring its handlers opens nothing, as a person would see and click again: so does this, a few times, before it fails.
    /// </summary>
    public static async Task ChooseAsync(IPage page, ILocator select, string option)
    {
        var item = page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true });
        for (var attempt = 1; ; attempt++)
        {
            await select.ClickAsync();
            try
            {
                await item.WaitForAsync(new() { Timeout = 10_000 });
                break;
            }
            catch (TimeoutException) when (attempt < 4)
            {
                await page.Keyboard.PressAsync("Escape");
            }
        }
        await item.ClickAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection
{
    /// <summary>Browser tests share one Portal and one browser, and run one after another.</summary>
    public const string Name = "browser";
}
