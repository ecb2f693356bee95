using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// Everything a browser test needs, started once per run and shared: a migrated database, the dev
/// identity provider, the real Portal process, and the browser. Browser tests share its data, so
/// they assert on what they created themselves, never on totals.
/// </summary>
public sealed class PortalStack
{
    private static readonly Lazy<Task<PortalStack>> Shared = new(StartAsync);

    public static Task<PortalStack> GetAsync() => Shared.Value;

    public required PostgresServer Database { get; init; }
    public required string DatabaseName { get; init; }
    public required DevIdentityProvider IdentityProvider { get; init; }
    public required PortalProcess Portal { get; init; }
    public required IBrowser Browser { get; init; }

    public string BaseUrl => Portal.BaseUrl;
    public string ConnectionString => Database.ConnectionString(DatabaseName);

    private static async Task<PortalStack> StartAsync()
    {
        var database = await PostgresServer.GetAsync();
        var name = await database.CreateMigratedDatabaseAsync("browser");
        var baseUrl = PortalProcess.NextBaseUrl();
        var idp = await DevIdentityProvider.StartAsync([baseUrl]);
        var portal = await PortalProcess.StartAsync(baseUrl, database.ConnectionString(name), idp.Authority);
        var browser = await BrowserHost.GetAsync();
        // The Portal and the identity provider live until the run ends; ChildProcess kills them then.
        return new PortalStack { Database = database, DatabaseName = name, IdentityProvider = idp, Portal = portal, Browser = browser };
    }

    /// <summary>A fresh browser context (no cookies) with a page, for one test.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>Signs in through the identity provider's real login page and waits for the Portal page asked for.</summary>
    public async Task SignInAsync(IPage page, (string Username, string Password) user, string path = "/dashboard")
    {
        await page.GotoAsync(path);
        await IdentityProvider.SubmitLoginFormAsync(page, user);
        await page.WaitForURLAsync(url => url.StartsWith(BaseUrl + path, StringComparison.Ordinal));
        // Interactive pages are usable once the circuit is up; Blazor marks that by removing the prerender flag.
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined");
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection
{
    /// <summary>Browser tests share one Portal and one browser, and run one after another.</summary>
    public const string Name = "browser";
}
