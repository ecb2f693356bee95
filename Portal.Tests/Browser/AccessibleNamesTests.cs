using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// Every form control on the Portal's pages has an accessible name (what a screen reader reads, and what
/// <c>GetByLabel</c> finds), checked in Chromium on the rendered pages: a new input without a label fails here.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AccessibleNamesTests
{
    private const string Controls = "input:not([type=hidden]), select, textarea, button, [role=combobox], [role=checkbox], [role=radio], " +
        "[role=switch], [role=slider]";

    [Fact]
    public async Task Every_control_on_the_tenant_and_admin_pages_has_a_name()
    {
        var stack = await PortalStack.GetAsync();
        var slug = "names" + Guid.NewGuid().ToString("N")[..8];
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Admin, "/admin");
        await MakeAdminOfNewTenantAsync(stack.ConnectionString, slug);

        string[] paths =
        [
            $"/t/{slug}", $"/t/{slug}/members", $"/t/{slug}/tenants", $"/t/{slug}/settings", $"/t/{slug}/audit",
            $"/t/{slug}/cloud-accounts", $"/t/{slug}/cloud-accounts/new", $"/t/{slug}/workspaces",
            "/tenants", "/audit", "/admin", "/admin/jobs", "/admin/jobs/workers", "/admin/agents", "/admin/users",
            // The catalog's pages, with a workspace and an installed app so the generated forms are on them.
            $"/t/{slug}/workspaces/lake", $"/t/{slug}/workspaces/lake/catalog", $"/t/{slug}/workspaces/lake/catalog/airflow",
            $"/t/{slug}/workspaces/lake/catalog/jupyterhub", $"/t/{slug}/workspaces/lake/catalog/trino", $"/t/{slug}/workspaces/lake/apps/mlflow",
        ];
        string[] withForms = [$"/t/{slug}/workspaces/lake/catalog/airflow", $"/t/{slug}/workspaces/lake/catalog/jupyterhub",
            $"/t/{slug}/workspaces/lake/catalog/trino", $"/t/{slug}/workspaces/lake/apps/mlflow"];
        var unnamed = new List<string>();
        foreach (var path in paths)
        {
            await page.GotoAsync(path);
            await PortalStack.WaitUntilInteractiveAsync(page);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
            if (withForms.Contains(path)) await Assertions.Expect(page.Locator("form").First).ToBeVisibleAsync();
            foreach (var control in await page.Locator(Controls).AllAsync())
            {
                if (!await control.IsVisibleAsync()) continue;
                try
                {
                    await Assertions.Expect(control).ToHaveAccessibleNameAsync(new Regex(@"\S"), new() { Timeout = 1_000 });
                }
                catch (PlaywrightException)
                {
                    unnamed.Add($"{path}: {await control.EvaluateAsync<string>("e => e.outerHTML.slice(0, 300)")}");
                }
            }
        }
        await page.Context.CloseAsync();

        Assert.True(unnamed.Count == 0, string.Join("\n", unnamed));
    }

    private static async Task MakeAdminOfNewTenantAsync(string connectionString, string slug)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        var admin = await connection.ExecuteScalarAsync<Guid>("select id from users where username = 'admin'");
        var tenantId = await connection.ExecuteScalarAsync<Guid>(
            "insert into tenants (slug, name, domain, created_by) values (@slug, @slug, @slug || '.example.com', @admin) returning id",
                new { slug, admin });
        await connection.ExecuteAsync("insert into tenant_memberships (tenant_id, user_id, role) values (@tenantId, @admin, 'admin')",
            new { tenantId, admin });
        await CatalogBrowserTests.SeedWorkspaceWithAppAsync(connection, tenantId, slug);
    }
}
