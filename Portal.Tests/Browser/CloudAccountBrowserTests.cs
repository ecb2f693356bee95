using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// A new tenant admin connects an AWS account from the onboarding wizard: the Portal shows the exact
/// trust policy with the account's external ID, and the verification run says plainly why it failed
/// (no OpenTofu on this machine). Its own stack: it creates a tenant.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class CloudAccountBrowserTests : IAsyncLifetime
{
    private PortalStack stack = null!;

    public async Task InitializeAsync() => stack = await PortalStack.StartIsolatedAsync();

    public async Task DisposeAsync() => await stack.DisposeAsync();

    [Fact]
    public async Task An_admin_connects_an_aws_account_sees_its_trust_policy_and_a_clear_verification_result()
    {
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Bob);
        await OnboardingWizard.CreateOrganisationAsync(page, "Bob Labs");

        await page.GetByRole(AriaRole.Button, new() { Name = "Connect AWS or AliCloud" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/t/bob-labs/cloud-accounts/new$"), new() { WaitUntil = WaitUntilState.Commit });
        // The wizard: the provider (AWS is chosen), then the account.
        await Assertions.Expect(page.GetByRole(AriaRole.Radio, new() { Name = "AWS" })).ToBeCheckedAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Production");
        var accountId = page.GetByLabel("AWS account ID (12 digits)");
        await accountId.FillAsync("12345");
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect", Exact = true }).ClickAsync();
        await Assertions.Expect(accountId).ToHaveAccessibleDescriptionAsync(new Regex("12 digits"));
        await accountId.FillAsync("123456789012");
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect", Exact = true }).ClickAsync();

        var externalId = page.GetByLabel("External ID");
        await Assertions.Expect(externalId).ToContainTextAsync("cogrion-");
        var trustPolicy = await page.GetByLabel("Trust policy", new() { Exact = true }).TextContentAsync();
        Assert.Contains(TestSettings.AwsPrincipalArn, trustPolicy);
        Assert.Contains(await externalId.TextContentAsync() ?? "?", trustPolicy);
        var status = page.GetByRole(AriaRole.Status, new() { Name = "Status of Production" });
        await Assertions.Expect(status).ToHaveTextAsync("pending");

        await page.GetByLabel("Role ARN").FillAsync("arn:aws:iam::123456789012:role/cogrion-provisioner");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();

        await Assertions.Expect(status).ToHaveTextAsync("failed");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert, new() { Name = "Why verification failed" })).ToContainTextAsync("OpenTofu");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "cogrion-cloud-account.png"), FullPage = true });
        await page.Context.CloseAsync();
    }
}
