using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>Sign-in, the shell and sign-out, in Debian Chromium against the real Portal and the real dev identity provider.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SignInTests
{
    [Fact]
    public async Task A_platform_admin_signs_in_sees_the_shell_with_admin_and_signs_out_of_the_provider_too()
    {
        var stack = await PortalStack.GetAsync();
        var page = await stack.NewPageAsync();

        await stack.SignInAsync(page, DevIdentityProvider.Admin);

        // A platform admin without a tenant of their own lands on the platform overview.
        await page.WaitForURLAsync(new Regex("/admin$"));
        var account = page.GetByRole(AriaRole.Region, new() { Name = "Your account" });
        await Assertions.Expect(account.GetByText("admin", new() { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(account.GetByText("platform-admin", new() { Exact = true })).ToBeVisibleAsync();
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" });
        foreach (var section in new[] { "Dashboard", "Tenants", "Audit", "Admin" })
            await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = section, Exact = true })).ToBeVisibleAsync();

        await nav.GetByRole(AriaRole.Link, new() { Name = "Admin", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Platform administration" })).ToBeVisibleAsync();

        await account.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/signed-out"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You are signed out" })).ToBeVisibleAsync();

        // The provider's session ended too: asking for a page shows its login form again instead of signing straight back in.
        await page.GotoAsync("/dashboard");
        await page.WaitForURLAsync(url => url.StartsWith(stack.IdentityProvider.Authority, StringComparison.Ordinal));
        await Assertions.Expect(DevIdentityProvider.LoginButton(page)).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_ordinary_user_sees_no_admin_section_and_is_denied_at_its_address()
    {
        var stack = await PortalStack.GetAsync();
        var page = await stack.NewPageAsync();

        await stack.SignInAsync(page, DevIdentityProvider.Alice);

        // Alice belongs to no tenant here: she lands in the onboarding wizard.
        await page.WaitForURLAsync(new Regex("/onboarding$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Your account" }).GetByText("alice", new() { Exact = true }))
            .ToBeVisibleAsync();
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" });
        await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Audit", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Admin", Exact = true })).ToHaveCountAsync(0);

        await page.GotoAsync("/admin");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Access denied" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Platform administration")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_audit_page_shows_the_users_own_sign_in()
    {
        var stack = await PortalStack.GetAsync();
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Bob);

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByRole(AriaRole.Link, new() { Name = "Audit", Exact = true })
            .ClickAsync();

        var grid = page.GetByLabel("Audit events", new() { Exact = true });
        await Assertions.Expect(grid.GetByText("session.signed_in").First).ToBeVisibleAsync();
        await Assertions.Expect(grid.GetByText("bob").First).ToBeVisibleAsync();
        // Bob is not a platform admin: other people's sign-ins are not his to read.
        await Assertions.Expect(grid.GetByText("admin", new() { Exact = true })).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_forged_sign_out_without_the_antiforgery_token_is_refused()
    {
        var stack = await PortalStack.GetAsync();
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Carol);

        // Same cookies as the signed-in page, but no form token: what a cross-site form post would send.
        var response = await page.Context.APIRequest.PostAsync("/account/signout", new() { MaxRedirects = 0 });

        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.Headers["content-type"]);
        await page.GotoAsync("/dashboard");
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Your account" }).GetByText("carol", new() { Exact = true }))
            .ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task No_configured_secret_or_token_reaches_the_database_or_the_portal_log()
    {
        var stack = await PortalStack.GetAsync();
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Admin);
        var cookies = await page.Context.CookiesAsync();
        var session = string.Concat(cookies.Where(c => c.Name.StartsWith("cogrion.session", StringComparison.Ordinal)).Select(c => c.Value));
        await page.GotoAsync("/audit");
        await Assertions.Expect(page.GetByLabel("Audit events", new() { Exact = true })).ToBeVisibleAsync();

        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        var tables = await connection.QueryAsync<string>("select table_name from information_schema.tables where table_schema = 'public'");
        var dump = new System.Text.StringBuilder();
        foreach (var table in tables)
            dump.AppendJoin('\n', await connection.QueryAsync<string>($"select row_to_json(t)::text from \"{table}\" t"));

        Assert.NotEmpty(session);
        Assert.DoesNotContain(TestSettings.ClientSecret, dump.ToString());
        Assert.DoesNotContain(TestSettings.ClientSecret, stack.Portal.Output);
        Assert.DoesNotContain("admin-pass", stack.Portal.Output);
        Assert.DoesNotContain(session[..Math.Min(40, session.Length)], stack.Portal.Output);
        await page.Context.CloseAsync();
    }
}
