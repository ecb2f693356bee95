using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// A newcomer creates a tenant and leaves it from its settings: the page lists what will happen, refuses a mistyped slug at its field,
/// starts on the right one, and the progress page follows the steps live to the certificate and the bundle. Signed in again, the person
/// (who belonged to no other tenant) finds an empty Portal: the onboarding wizard. Its own stack: it creates a tenant.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class OffboardingBrowserTests : IAsyncLifetime
{
    private PortalStack stack = null!;

    public async Task InitializeAsync() => stack = await PortalStack.StartIsolatedAsync(new Dictionary<string, string?>
    {
        ["Offboarding:WaitInterval"] = "00:00:01",
        ["Jobs:PollInterval"] = "00:00:01",
    });

    public async Task DisposeAsync() => await stack.DisposeAsync();

    [Fact]
    public async Task A_newcomer_creates_a_tenant_leaves_it_from_the_settings_and_gets_the_certificate_and_the_bundle()
    {
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Erin);
        await OnboardingWizard.CreateOrganisationAsync(page, "Erin Works");
        // The organisation exists once onboarding offers its next step, a cloud account, which leaving does not need.
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Connect AWS or AliCloud" })).ToBeVisibleAsync();

        await page.GotoAsync($"{stack.BaseUrl}/t/erin-works/settings");
        await PortalStack.WaitUntilInteractiveAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Leave Cogrion" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/t/erin-works/settings/leave$"));
        await PortalStack.WaitUntilInteractiveAsync(page);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenants (1)" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("erin (admin)")).ToBeVisibleAsync();

        var confirmation = page.GetByLabel("Type erin-works to confirm");
        await confirmation.FillAsync("erin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Leave Cogrion" }).ClickAsync();
        await Assertions.Expect(confirmation).ToHaveAccessibleDescriptionAsync(new Regex("Type the tenant's slug, erin-works, to confirm."));
        await confirmation.FillAsync("erin-works");
        await page.GetByRole(AriaRole.Button, new() { Name = "Leave Cogrion" }).ClickAsync();

        await page.WaitForURLAsync(new Regex("/offboardings/[0-9a-f-]{36}$"));
        var status = page.GetByRole(AriaRole.Status, new() { Name = "Offboarding status" });
        await Assertions.Expect(status).ToHaveTextAsync("done, awaiting purge", new() { Timeout = 120_000 });
        var certificate = page.GetByRole(AriaRole.Link, new() { Name = "Deletion certificate" });
        await Assertions.Expect(certificate).ToBeVisibleAsync();
        var bundle = page.GetByRole(AriaRole.Link, new() { Name = "Bundle (.zip)" });
        var download = await page.RunAndWaitForDownloadAsync(() => bundle.ClickAsync());
        Assert.Equal("cogrion-offboarding-erin-works.zip", download.SuggestedFilename);
        await Assertions.Expect(page.GetByText("Issued the deletion certificate")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "cogrion-offboarding.png"), FullPage = true });

        // Erin belonged to no other tenant: signed in afresh, the Portal is empty and offers to create an organisation.
        await page.Context.ClearCookiesAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Erin);
        await page.WaitForURLAsync(new Regex("/onboarding$"));
        await page.Context.CloseAsync();
    }
}
