using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// The tenants issue's proof, in Chromium against the real Portal and identity provider: a new user
/// sets up an organisation with the wizard and invites a colleague, who lands in it with the invited
/// role at sign-in; a user of another tenant cannot reach it by URL. It changes memberships, so it
/// runs on a stack of its own.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class TenantOnboardingTests : IAsyncLifetime
{
    private static readonly PageWaitForURLOptions InCircuit = new() { WaitUntil = WaitUntilState.Commit };
    private PortalStack stack = null!;

    public async Task InitializeAsync() => stack = await PortalStack.StartIsolatedAsync();

    public async Task DisposeAsync() => await stack.DisposeAsync();

    [Fact]
    public async Task A_new_user_sets_up_a_tenant_invites_an_operator_who_lands_in_it_and_an_outsider_cannot_reach_it()
    {
        // Dave has no tenant: sign-in lands him in the wizard.
        var dave = await stack.NewPageAsync();
        await stack.SignInAsync(dave, DevIdentityProvider.Dave);
        await dave.WaitForURLAsync(new Regex("/onboarding$"));

        await dave.GetByTestId("onboarding-name").FillAsync("Dave's Data");
        await dave.GetByTestId("onboarding-next").ClickAsync();

        // The slug is suggested from the name and checked as it is typed; the domain follows it.
        await Assertions.Expect(dave.GetByTestId("onboarding-slug")).ToHaveValueAsync("dave-s-data");
        await dave.GetByTestId("onboarding-slug").FillAsync("admin");
        await Assertions.Expect(dave.GetByTestId("slug-error")).ToContainTextAsync("reserved");
        await dave.GetByTestId("onboarding-slug").FillAsync("davedata");
        await Assertions.Expect(dave.GetByTestId("slug-available")).ToBeVisibleAsync();
        await Assertions.Expect(dave.GetByTestId("onboarding-domain")).ToHaveValueAsync("davedata." + TestSettings.BaseDomain);
        await dave.GetByTestId("onboarding-next").ClickAsync();

        await Assertions.Expect(dave.GetByTestId("onboarding-summary")).ToContainTextAsync("davedata." + TestSettings.BaseDomain);
        await dave.GetByTestId("onboarding-create").ClickAsync();
        // The next step connects a cloud account; the sandbox lets the wizard go on at once.
        await dave.GetByTestId("onboarding-sandbox").ClickAsync();
        // The workspace step comes next; this test is about the tenant, so it is skipped.
        await dave.GetByTestId("onboarding-skip-workspace").ClickAsync();
        await dave.GetByTestId("onboarding-go-to-tenant").ClickAsync();
        // Navigation inside the circuit changes the URL without a page load: wait for the URL only.
        await dave.WaitForURLAsync(new Regex("/t/davedata$"), InCircuit);
        await Assertions.Expect(dave.GetByTestId("tenant-role")).ToHaveTextAsync("admin");

        // Invite Alice as operator from the members page; a malformed address is refused at the field.
        await dave.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByText("Members", new() { Exact = true }).ClickAsync();
        await dave.WaitForURLAsync(new Regex("/t/davedata/members$"), InCircuit);
        await dave.GetByTestId("invite-email").FillAsync("not an address");
        await dave.GetByTestId("invite-submit").ClickAsync();
        await Assertions.Expect(dave.GetByTestId("invite-email-error")).ToContainTextAsync("e-mail address");
        await dave.GetByTestId("invite-email").FillAsync("alice@example.com");
        await dave.GetByTestId("invite-role").ClickAsync();
        await dave.GetByRole(AriaRole.Option, new() { Name = "Operator", Exact = true }).Filter(new() { Visible = true }).ClickAsync();
        await Assertions.Expect(dave.GetByTestId("invite-role")).ToContainTextAsync("operator");
        await dave.GetByTestId("invite-submit").ClickAsync();
        await Assertions.Expect(dave.GetByTestId("invitation-status-alice@example.com")).ToHaveTextAsync("pending");
        await Assertions.Expect(dave.GetByTestId("invitations-grid")).ToContainTextAsync("operator");
        await dave.Context.CloseAsync();

        // Alice's verified e-mail matches: at sign-in she becomes an operator and lands in Dave's tenant.
        var alice = await stack.NewPageAsync();
        await stack.SignInAsync(alice, DevIdentityProvider.Alice);
        await alice.WaitForURLAsync(new Regex("/t/davedata$"));
        await Assertions.Expect(alice.GetByTestId("tenant-role")).ToHaveTextAsync("operator");
        await alice.GotoAsync("/t/davedata/settings");
        await Assertions.Expect(alice.GetByRole(AriaRole.Heading, new() { Name = "Access denied" })).ToBeVisibleAsync();
        await alice.Context.CloseAsync();

        // Carol has a tenant of her own and tries Dave's by URL: it does not exist for her, page or API.
        var carol = await stack.NewPageAsync();
        await stack.SignInAsync(carol, DevIdentityProvider.Carol);
        var created = await carol.Context.APIRequest.PostAsync("/api/v1/tenants", new() { DataObject = new { name = "Carol Co", slug = "carolco" } });
        Assert.Equal(201, created.Status);
        await carol.GotoAsync("/t/davedata/members");
        await Assertions.Expect(carol.GetByRole(AriaRole.Heading, new() { Name = "Nothing here" })).ToBeVisibleAsync();
        await Assertions.Expect(carol.GetByText("alice@example.com")).ToHaveCountAsync(0);
        var api = await carol.Context.APIRequest.GetAsync("/api/v1/tenants/davedata/members");
        Assert.Equal(404, api.Status);
        await carol.Context.CloseAsync();
    }
}
