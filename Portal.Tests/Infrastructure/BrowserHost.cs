using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// One Debian Chromium for the whole run, driven by Playwright (which must never download a browser
/// of its own here). Each test opens its own context, so cookies never leak between tests.
/// </summary>
public static class BrowserHost
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private static readonly Lazy<Task<IBrowser>> Shared = new(LaunchAsync);

    public static Task<IBrowser> GetAsync() => Shared.Value;

    private static async Task<IBrowser> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (tools/test.sh does).");
        // Two cores shared with builds and servers: an interactive circuit can take seconds to start.
        // Expectations wait as long as actions do, rather than Playwright's default of 5 s.
        Assertions.SetDefaultExpectTimeout(15_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            ],
        });
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            browser.CloseAsync().GetAwaiter().GetResult();
            playwright.Dispose();
        };
        return browser;
    }
}
