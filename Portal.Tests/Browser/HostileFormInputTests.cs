using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// Text a person types that the Portal cannot store, in a real browser: the form says so next to
/// the field, and the page (its circuit) lives on. Selectors are the labels and roles people use,
/// so the test outlives a markup change.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class HostileFormInputTests : IAsyncLifetime
{
    private PortalStack stack = null!;

    public async Task InitializeAsync() => stack = await PortalStack.StartIsolatedAsync();

    public async Task DisposeAsync() => await stack.DisposeAsync();

    [Fact]
    public async Task A_nul_in_the_workspace_wizards_name_is_a_field_error_and_the_page_keeps_working()
    {
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Erin);
        await SeedTenantWithSandboxAccountAsync("erinco", "erin");

        await page.GotoAsync("/t/erinco/workspaces/new");
        await PortalStack.WaitUntilInteractiveAsync(page);
        var next = page.GetByRole(AriaRole.Button, new() { Name = "Next" });
        await next.ClickAsync(); // the cloud account
        await next.ClickAsync(); // the region
        var name = page.GetByLabel(new Regex("^Name"));
        await name.FillAsync("lake\0side");
        await next.ClickAsync();

        await Assertions.Expect(page.GetByText("NUL")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#blazor-error-ui")).Not.ToBeVisibleAsync();
        // The circuit still answers: a good name is taken and the wizard moves on.
        await name.FillAsync("lake");
        await Assertions.Expect(page.GetByText("lake.erinco." + TestSettings.BaseDomain)).ToBeVisibleAsync();
        await next.ClickAsync();
        await Assertions.Expect(page.GetByText("NUL")).Not.ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel(new Regex("^Instance type")).First).ToBeVisibleAsync();
    }

    /// <summary>The tenant and a verified sandbox account as they would be after onboarding, written directly: the wizard is what is under
    /// test.</summary>
    private async Task SeedTenantWithSandboxAccountAsync(string slug, string username)
    {
        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        var userId = await connection.ExecuteScalarAsync<Guid>("select id from users where username = @username", new { username });
        var tenantId = await connection.ExecuteScalarAsync<Guid>("insert into tenants (slug, name, domain) values (@slug, @slug, @domain) " +
            "returning id",
            new { slug, domain = $"{slug}.{TestSettings.BaseDomain}" });
        await connection.ExecuteAsync("insert into tenant_memberships (tenant_id, user_id, role) values (@tenantId, @userId, 'admin')",
            new { tenantId, userId });
        await connection.ExecuteAsync("""
            insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status)
            values (@tenantId, 'sandbox', 'Sandbox', 'sandbox-erin', '', 'ext-erin', 'verified')
            """, new { tenantId });
    }
}
