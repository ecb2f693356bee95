using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Cogrion.Portal.Tests.Infrastructure;

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
        await page.WaitForURLAsync(new Regex("/onboarding$"));
        await page.GetByTestId("onboarding-name").FillAsync("Bob Labs");
        await page.GetByTestId("onboarding-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("slug-available")).ToBeVisibleAsync();
        await page.GetByTestId("onboarding-next").ClickAsync();
        await page.GetByTestId("onboarding-create").ClickAsync();

        await page.GetByTestId("onboarding-real-account").ClickAsync();
        await page.WaitForURLAsync(new Regex("/t/bob-labs/cloud-accounts/new$"), new() { WaitUntil = WaitUntilState.Commit });
        await page.GetByTestId("account-name").FillAsync("Production");
        await page.GetByTestId("account-ref").FillAsync("12345");
        await page.GetByTestId("connect-submit").ClickAsync();
        await Assertions.Expect(page.Locator("#account-error")).ToContainTextAsync("12 digits");
        await page.GetByTestId("account-ref").FillAsync("123456789012");
        await page.GetByTestId("connect-submit").ClickAsync();

        var externalId = page.GetByTestId("external-id");
        await Assertions.Expect(externalId).ToContainTextAsync("cogrion-");
        var trustPolicy = await page.GetByTestId("trust-policy").TextContentAsync();
        Assert.Contains(TestSettings.AwsPrincipalArn, trustPolicy);
        Assert.Contains(await externalId.TextContentAsync() ?? "?", trustPolicy);
        await Assertions.Expect(page.GetByTestId("account-status")).ToHaveTextAsync("pending");

        await page.GetByTestId("role-arn").FillAsync("arn:aws:iam::123456789012:role/cogrion-provisioner");
        await page.GetByTestId("verify").ClickAsync();

        await Assertions.Expect(page.GetByTestId("account-status")).ToHaveTextAsync("failed");
        await Assertions.Expect(page.GetByTestId("verification-reason")).ToContainTextAsync("OpenTofu");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "cogrion-cloud-account.png"), FullPage = true });
        await page.Context.CloseAsync();
    }
}
