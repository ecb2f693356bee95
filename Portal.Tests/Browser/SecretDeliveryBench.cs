using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// Issue 15's figure: from "Save" in the browser to the Secret applied in the simulated cluster (the page
/// showing the agent's report of the new version), with the real Portal process, the real agent binary and
/// Chromium. COGRION_BENCH_SECRETS_ROUNDS saves (default 20): one add, then rotations.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SecretDeliveryBench : IAsyncLifetime
{
    private readonly BrowserAgentWorld world = new() { AgentReadyWhen = BrowserAgentWorld.KeyPublished };

    public Task InitializeAsync() => world.InitializeAsync();

    public Task DisposeAsync() => world.DisposeAsync();

    [BenchFact("secrets")]
    public async Task Save_to_applied()
    {
        var rounds = int.Parse(Environment.GetEnvironmentVariable("COGRION_BENCH_SECRETS_ROUNDS") ?? "20", CultureInfo.InvariantCulture);
        var page = world.Page;
        await world.EnsureAppNamespaceAsync("airflow");

        await page.GotoAsync("/t/vault/workspaces/lake/secrets");
        await PortalStack.WaitUntilInteractiveAsync(page);
        await page.GetByLabel("Fingerprint you read in the cluster").FillAsync(await world.AgentFingerprintAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm fingerprint" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Key check")).ToContainTextAsync("signed by the confirmed agent identity");

        var row = page.GetByRole(AriaRole.Row, new() { Name = "Secret airflow/db-password" });
        var latencies = new List<double>();
        for (var version = 1; version <= rounds; version++)
        {
            if (version == 1)
            {
                await page.GetByLabel("Namespace").FillAsync("airflow");
                await page.GetByLabel("Secret name").FillAsync("db-password");
                await page.GetByLabel("Key", new() { Exact = true }).FillAsync("password");
            }
            else
            {
                await row.GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
            }
            await page.GetByLabel("Value", new() { Exact = true }).FillAsync($"value-{version}-{Guid.NewGuid():N}");
            var started = Stopwatch.GetTimestamp();
            await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
            await Assertions.Expect(row).ToContainTextAsync(new Regex($@"\s{version}\s+applied\b"), new() { Timeout = 60_000 });
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        var sorted = latencies.Order().ToArray();
        double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        var report = string.Join('\n',
            $"saves: {sorted.Length}",
            $"p50 ms: {P(0.50):0}, p95 ms: {P(0.95):0}, max ms: {sorted[^1]:0}",
            $"secrets: delivery p95 ms: {P(0.95):0}");
        await File.WriteAllTextAsync(Environment.GetEnvironmentVariable("COGRION_BENCH_SECRETS")!, report + "\n");
    }
}
