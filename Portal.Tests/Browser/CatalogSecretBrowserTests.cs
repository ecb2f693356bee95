using System.Security.Cryptography;
using System.Text;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

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
    private readonly BrowserAgentWorld world = new() { CatalogCharts = true, AgentReadyWhen = BrowserAgentWorld.KeyPublished };

    public Task InitializeAsync() => world.InitializeAsync();

    public Task DisposeAsync() => world.DisposeAsync();

    [Fact]
    public async Task A_secret_typed_in_the_install_form_reaches_the_apps_secret_and_release_and_nowhere_else()
    {
        var (page, agent) = (world.Page, world.Agent);
        var fingerprint = await world.AgentFingerprintAsync();

        // Before the fingerprint is confirmed in this browser, a typed secret is refused in red and nothing is installed.
        await page.GotoAsync("/t/vault/workspaces/lake/catalog/airflow");
        await PortalStack.WaitUntilInteractiveAsync(page);
        await page.GetByLabel("Fernet key").FillAsync("typed-before-the-fingerprint");
        await page.GetByRole(AriaRole.Button, new() { Name = "Install", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Secret values")).ToContainTextAsync("Confirm its fingerprint first");
        Assert.Equal(0, await world.ScalarAsync("select count(*) from workspace_apps"));

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
        Assert.Equal(0, await world.OccurrencesInDatabaseAsync(canary));
        Assert.Equal(0, await world.ScalarAsync("select count(*) from secret_deliveries"));
        Assert.Equal(1, await world.ScalarAsync("select count(*) from workspace_secrets where name = 'airflow-fernetkey' and status = 'applied'"));
        Assert.Equal(1, await world.ScalarAsync("select count(*) from workspace_apps where secret_paths = '{fernetKey}'"));
        Assert.DoesNotContain(canary, world.Stack.Portal.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("typed-before-the-fingerprint", world.Stack.Portal.Output, StringComparison.Ordinal);
    }
}
