using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

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

        await dave.GetByLabel("Organisation name").FillAsync("Dave's Data");
        await dave.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        // The slug is suggested from the name and checked as it is typed; the domain follows it.
        var slug = dave.GetByLabel("Slug", new() { Exact = true });
        await Assertions.Expect(slug).ToHaveValueAsync("dave-s-data");
        await slug.FillAsync("admin");
        await Assertions.Expect(slug).ToHaveAccessibleDescriptionAsync(new Regex("reserved"));
        await slug.FillAsync("davedata");
        await Assertions.Expect(dave.GetByRole(AriaRole.Status).Filter(new() { HasText = "'davedata' is available." })).ToBeVisibleAsync();
        await Assertions.Expect(dave.GetByLabel("Domain", new() { Exact = true })).ToHaveValueAsync("davedata." + TestSettings.BaseDomain);
        await dave.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await Assertions.Expect(dave.GetByLabel("Your organisation")).ToContainTextAsync("davedata." + TestSettings.BaseDomain);
        await dave.GetByRole(AriaRole.Button, new() { Name = "Create organisation" }).ClickAsync();
        // The next step connects a cloud account; the sandbox lets the wizard go on at once.
        await dave.GetByRole(AriaRole.Button, new() { Name = "Use the sandbox (simulated)" }).ClickAsync();
        // The workspace step comes next; this test is about the tenant, so it is skipped.
        await dave.GetByRole(AriaRole.Button, new() { Name = "Skip for now" }).ClickAsync();
        await dave.GetByRole(AriaRole.Link, new() { Name = "Go to your organisation" }).ClickAsync();
        // Navigation inside the circuit changes the URL without a page load: wait for the URL only.
        await dave.WaitForURLAsync(new Regex("/t/davedata$"), InCircuit);
        await Assertions.Expect(dave.GetByRole(AriaRole.Status, new() { Name = "Your role" })).ToHaveTextAsync("admin");

        // Invite Alice as operator from the members page; a malformed address is refused at the field.
        await dave.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByRole(AriaRole.Link, new() { Name = "Members", Exact = true })
            .ClickAsync();
        await dave.WaitForURLAsync(new Regex("/t/davedata/members$"), InCircuit);
        var invite = dave.GetByRole(AriaRole.Form, new() { Name = "Invite a member" });
        var email = invite.GetByLabel("E-mail");
        await email.FillAsync("not an address");
        await invite.GetByRole(AriaRole.Button, new() { Name = "Invite" }).ClickAsync();
        await Assertions.Expect(email).ToHaveAccessibleDescriptionAsync(new Regex("e-mail address"));
        await email.FillAsync("alice@example.com");
        await PortalStack.ChooseAsync(dave, invite.GetByLabel("Role"), "operator");
        await Assertions.Expect(invite.GetByLabel("Role")).ToHaveValueAsync("operator");
        await invite.GetByRole(AriaRole.Button, new() { Name = "Invite" }).ClickAsync();
        await Assertions.Expect(dave.GetByLabel("Invitation status of alice@example.com")).ToHaveTextAsync("pending");
        await Assertions.Expect(dave.GetByLabel("Invitation list")).ToContainTextAsync("operator");
        await dave.Context.CloseAsync();

        // Alice's verified e-mail matches: at sign-in she becomes an operator and lands in Dave's tenant.
        var alice = await stack.NewPageAsync();
        await stack.SignInAsync(alice, DevIdentityProvider.Alice);
        await alice.WaitForURLAsync(new Regex("/t/davedata$"));
        await Assertions.Expect(alice.GetByRole(AriaRole.Status, new() { Name = "Your role" })).ToHaveTextAsync("operator");
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
