using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// The catalog's pages in Chromium: the workspace lists its apps, the catalog offers Install, the form
/// generated from Airflow's schema shows the server-side validation's errors on their fields, a secret is
/// a plain input for the browser module, and another tenant's route to the same workspace finds nothing. (Install, upgrade, rollback
/// and remove through the real agent are CatalogEndToEndTests; here the workspace has no agent, so the
/// valid install stops with that reason, said plainly.)
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class CatalogBrowserTests
{
    [Fact]
    public async Task The_generated_install_form_shows_each_problem_on_its_field_and_another_tenant_finds_nothing()
    {
        var stack = await PortalStack.GetAsync();
        var slug = "apps" + Guid.NewGuid().ToString("N")[..8];
        var other = "other" + Guid.NewGuid().ToString("N")[..8];
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Admin, "/admin");
        Guid appId;
        await using (var connection = new NpgsqlConnection(stack.ConnectionString))
        {
            appId = await SeedWorkspaceWithAppAsync(connection, await AdminTenantAsync(connection, slug), slug);
            await AdminTenantAsync(connection, other);
        }

        // The tenant dashboard shows the apps of every workspace at a glance.
        await page.GotoAsync($"/t/{slug}");
        await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Workspaces" })
            .GetByRole(AriaRole.Status, new() { Name = "Status of MLflow in lake" })).ToHaveTextAsync("Installing");

        await page.GotoAsync($"/t/{slug}/workspaces/lake");
        await PortalStack.WaitUntilInteractiveAsync(page);
        var apps = page.GetByRole(AriaRole.Table, new() { Name = "Apps" });
        await Assertions.Expect(apps.GetByRole(AriaRole.Link, new() { Name = "MLflow" })).ToBeVisibleAsync();
        await Assertions.Expect(apps.GetByRole(AriaRole.Status, new() { Name = "Status of MLflow" })).ToHaveTextAsync("Installing");

        await page.GetByRole(AriaRole.Link, new() { Name = "App catalog" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Install Apache Airflow" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Install Apache Airflow" })).ToBeVisibleAsync();
        await PortalStack.WaitUntilInteractiveAsync(page);

        var webServer = page.GetByRole(AriaRole.Group, new() { Name = "Web server" });
        // A secret field is a plain password input, sealed in the browser to the agent's key (CatalogSecretBrowserTests installs with one).
        await Assertions.Expect(webServer.GetByLabel("Password")).ToHaveAttributeAsync("type", "password");
        await Assertions.Expect(page.GetByText(new Regex("Encrypted in this browser to the workspace's Cluster Agent")).First).ToBeVisibleAsync();
        var replicas = webServer.GetByLabel("Replicas", new() { Exact = true });
        await replicas.FillAsync("9");
        var repo = page.GetByRole(AriaRole.Group, new() { Name = "Git sync" }).GetByLabel("Repository URL");
        await repo.FillAsync("not a url");
        await page.GetByRole(AriaRole.Button, new() { Name = "Install", Exact = true }).ClickAsync();

        await Assertions.Expect(page.Locator("#error-values-webserver-replicas")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#error-values-dags-gitSync-repo")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#error-values-executor")).Not.ToBeVisibleAsync();

        await replicas.FillAsync("2");
        await repo.FillAsync("https://git.example/dags.git");
        await page.GetByRole(AriaRole.Button, new() { Name = "Install", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText(new Regex("has no active Cluster Agent"))).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#error-values-webserver-replicas")).Not.ToBeVisibleAsync();

        // The app page: its revision, and an upgrade that shows the values diff and the chart change before it is confirmed.
        await page.GotoAsync($"/t/{slug}/workspaces/lake/apps/mlflow");
        await PortalStack.WaitUntilInteractiveAsync(page);
        await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Revision history" })).ToContainTextAsync("2 (current)");
        var upgrade = page.GetByRole(AriaRole.Region, new() { Name = "Upgrade" });
        await upgrade.GetByLabel("Replicas", new() { Exact = true }).FillAsync("2");
        await upgrade.GetByRole(AriaRole.Button, new() { Name = "Review changes" }).ClickAsync();
        var changes = page.GetByRole(AriaRole.Region, new() { Name = "Changes to apply" });
        await Assertions.Expect(changes.Locator("li")).ToHaveCountAsync(1);
        await Assertions.Expect(changes).ToContainTextAsync("replicaCount: 1 → 2");
        await upgrade.GetByRole(AriaRole.Button, new() { Name = "Confirm upgrade" }).ClickAsync();
        await Assertions.Expect(page.GetByText(new Regex("has no active Cluster Agent"))).ToBeVisibleAsync();

        // Rollback and Remove reach the service (which answers that there is no agent to do it through).
        await page.GetByRole(AriaRole.Button, new() { Name = "Roll back to revision 1" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "has no active Cluster Agent" }).First).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove", Exact = true }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        var removeApp = dialog.GetByRole(AriaRole.Button, new() { Name = "Remove app" });
        await Assertions.Expect(removeApp).ToBeDisabledAsync();
        await dialog.GetByLabel("Type mlflow to confirm").FillAsync("mlflow");
        await removeApp.ClickAsync();
        await Assertions.Expect(dialog).Not.ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText(new Regex("no active Cluster Agent to remove it through"))).ToBeVisibleAsync();

        // The status is live: a failure the agent reports appears without a reload, and stays.
        await using (var connection = new NpgsqlConnection(stack.ConnectionString))
            await connection.ExecuteAsync("""
                update workspace_apps set last_failure_reason = 'UpgradeFailed', last_failure_message = 'Helm upgrade failed: boom',
                    last_failure_version = '9.9.9', last_failure_at = now() where id = @appId
                """, new { appId });
        var lastFailure = new Regex(@"Last failure \(.*chart 9\.9\.9\): UpgradeFailed: Helm upgrade failed: boom");
        await Assertions.Expect(page.GetByText(lastFailure)).ToBeVisibleAsync();

        // The same workspace and app through another tenant's route: not found, nothing of it shown.
        await page.GotoAsync($"/t/{other}/workspaces/lake/apps/mlflow");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No such workspace" })).ToBeVisibleAsync();
        await page.GotoAsync($"/t/{other}/workspaces/lake/catalog/airflow");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No such workspace" })).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    private static async Task<Guid> AdminTenantAsync(NpgsqlConnection connection, string slug)
    {
        var admin = await connection.ExecuteScalarAsync<Guid>("select id from users where username = 'admin'");
        var tenantId = await connection.ExecuteScalarAsync<Guid>(
            "insert into tenants (slug, name, domain, created_by) values (@slug, @slug, @slug || '.example.com', @admin) returning id",
            new { slug, admin });
        await connection.ExecuteAsync("insert into tenant_memberships (tenant_id, user_id, role) values (@tenantId, @admin, 'admin')",
            new { tenantId, admin });
        return tenantId;
    }

    /// <summary>A ready sandbox workspace "lake" with MLflow installed as the service leaves it (no agent, so no report yet).</summary>
    internal static async Task<Guid> SeedWorkspaceWithAppAsync(NpgsqlConnection connection, Guid tenantId, string slug)
    {
        var accountId = await connection.ExecuteScalarAsync<Guid>("""
            insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status)
            values (@tenantId, 'sandbox', 'Sandbox', @slug, '', @slug, 'verified') returning id
            """, new { tenantId, slug });
        var workspaceId = Guid.CreateVersion7();
        await connection.ExecuteAsync("""
            insert into workspaces (id, tenant_id, name, cloud_account_id, provider, region, network_cidr, kubernetes_version, node_pools,
                use_karpenter, approval_mode, status, created_by)
            values (@workspaceId, @tenantId, 'lake', @accountId, 'sandbox', 'sandbox-local-1', '10.40.0.0/16', '1.33', '[]', true, 'automatic',
                'ready', 'admin')
            """, new { workspaceId, tenantId, accountId });
        var appId = Guid.CreateVersion7();
        // As the service installs it: the catalog's defaults, the oldest supported chart (so an upgrade has somewhere to go).
        var mlflow = Cogrion.Portal.Features.Workspaces.Apps.CatalogApp.Load(Path.Combine(RepoPaths.Root, "catalog", "mlflow"));
        var version = mlflow.Chart.Versions[0];
        await connection.ExecuteAsync("""
            insert into workspace_apps (id, tenant_id, workspace_id, app, namespace, desired_state, chart_version, "values", revision,
                revision_changed_at, created_by, created_at)
            values (@appId, @tenantId, @workspaceId, 'mlflow', 'mlflow', 'installed', @version, @values::jsonb, 2, now(), 'admin', now());
            insert into workspace_app_revisions (app_id, revision, action, chart_version, "values", created_by, created_at)
            values (@appId, 1, 'install', @version, @values::jsonb, 'admin', now() - interval '1 hour'),
                   (@appId, 2, 'upgrade', @version, @values::jsonb, 'admin', now());
            """, new { appId, tenantId, workspaceId, version, values = mlflow.Defaults.ToJsonString() });
        return appId;
    }
}
