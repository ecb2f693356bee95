using System.Security.Cryptography;
using System.Text;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// A catalog app's secret field through the secrets channel, in Chromium against the real Portal process and the
/// real agent binary in a simulated cluster whose simulated Flux serves the catalog's charts: the admin confirms the
/// agent's fingerprint once, types Airflow's Fernet key into the install form, and installs. The value is sealed in
/// the browser, written by the agent as the Secret of that field in the app's namespace, and read by the HelmRelease
/// through valuesFrom at the chart's option; the app becomes Ready. The canary appears 0 times in the Portal's
/// database (apps, revisions, commands, jobs, audit), in the Portal's log, and in the HelmRelease.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class CatalogSecretBrowserTests : IAsyncLifetime
{
    private PortalStack stack = null!;
    private AgentProcess? agent;

    public async Task InitializeAsync() => stack = await PortalStack.StartIsolatedAsync();

    public async Task DisposeAsync()
    {
        if (agent is not null) await agent.DisposeAsync();
        await stack.DisposeAsync();
    }

    [Fact]
    public async Task A_secret_typed_in_the_install_form_reaches_the_apps_secret_and_release_and_nowhere_else()
    {
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Erin);
        var (tenant, workspace) = await SecretsBrowserTests.SeedAsync(stack, "erin");
        agent = await AgentProcess.StartClusterAsync(catalogCharts: true);
        await agent.InstallAsync(tenant, workspace, stack.BaseUrl, await TestBootstrapTokens.MintAsync(stack.ConnectionString, tenant, workspace));
        await agent.WaitForOutputAsync("Published encryption key");
        var configMap = await agent.Admin.GetAsync(new ObjectReference("v1", "ConfigMap", AgentInstall.IdentityConfigMap,
            AgentInstall.Namespace), default);
        var fingerprint = configMap!["data"]!["fingerprint"]!.GetValue<string>();

        // Before the fingerprint is confirmed in this browser, a typed secret is refused in red and nothing is installed.
        await page.GotoAsync("/t/vault/workspaces/lake/catalog/airflow");
        await PortalStack.WaitUntilInteractiveAsync(page);
        await page.GetByLabel("Fernet key").FillAsync("typed-before-the-fingerprint");
        await page.GetByRole(AriaRole.Button, new() { Name = "Install", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Secret values")).ToContainTextAsync("Confirm its fingerprint first");
        Assert.Equal(0, await ScalarAsync("select count(*) from workspace_apps"));

        await page.GotoAsync("/t/vault/workspaces/lake/secrets");
        await PortalStack.WaitUntilInteractiveAsync(page);
        await page.GetByLabel("Fingerprint you read in the cluster").FillAsync(fingerprint);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm fingerprint" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Key check")).ToContainTextAsync("signed by the confirmed agent identity " + fingerprint);

        var canary = "canary-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await page.GotoAsync("/t/vault/workspaces/lake/catalog/airflow");
        await PortalStack.WaitUntilInteractiveAsync(page);
        await page.GetByLabel("Fernet key").FillAsync(canary);
        await page.GetByRole(AriaRole.Button, new() { Name = "Install", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/t/vault/workspaces/lake/apps/airflow");
        await Assertions.Expect(page.GetByRole(AriaRole.Status, new() { Name = "App status" })).ToHaveTextAsync("Ready",
            new() { Timeout = 120_000 });

        // In the cluster: the field's Secret holds the value; the release reads it through valuesFrom and never carries it.
        var secret = await agent.Admin.GetAsync(new ObjectReference("v1", "Secret", "airflow-fernetkey", "airflow"), default);
        Assert.Equal(canary, Encoding.UTF8.GetString(Convert.FromBase64String(secret!["data"]!["value"]!.GetValue<string>())));
        var release = await agent.Admin.GetAsync(new ObjectReference("helm.toolkit.fluxcd.io/v2", "HelmRelease", "airflow", "airflow"), default);
        var from = Assert.Single(release!["spec"]!["valuesFrom"]!.AsArray())!;
        Assert.Equal("airflow-fernetkey", from["name"]!.GetValue<string>());
        Assert.Equal("value", from["valuesKey"]!.GetValue<string>());
        Assert.Equal("fernetKey", from["targetPath"]!.GetValue<string>());
        Assert.DoesNotContain(canary, release.ToJsonString(), StringComparison.Ordinal);

        // Nowhere in the Portal: database (apps and revisions, commands, jobs, audit, deliveries) and log.
        Assert.Equal(0, await OccurrencesInDatabaseAsync(canary));
        Assert.Equal(0, await ScalarAsync("select count(*) from secret_deliveries"));
        Assert.Equal(1, await ScalarAsync("select count(*) from workspace_secrets where name = 'airflow-fernetkey' and status = 'applied'"));
        Assert.Equal(1, await ScalarAsync("select count(*) from workspace_apps where secret_paths = '{fernetKey}'"));
        Assert.DoesNotContain(canary, stack.Portal.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("typed-before-the-fingerprint", stack.Portal.Output, StringComparison.Ordinal);
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private async Task<int> OccurrencesInDatabaseAsync(string value)
    {
        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        var tables = await connection.QueryAsync<string>("""
            select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables
            where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'
            """);
        var found = 0;
        foreach (var table in tables)
            found += await connection.ExecuteScalarAsync<int>($"select count(*) from {table} t where strpos(t::text, @value) > 0", new { value });
        return found;
    }
}
