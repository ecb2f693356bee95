using System.Diagnostics;
using System.Globalization;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Sandbox.Cluster.Store;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// Issue 14's figures, with the real Portal process, the real agent binary in a simulated cluster (its simulated Flux
/// serving the catalog's charts) and Chromium: (1) install overhead, from "Install" on the form to the app page showing
/// Ready, minus the simulated chart's own readiness delay, for each of the six apps; (2) status latency, from a change
/// of a workload's readiness in the cluster to the app page showing the new state, COGRION_BENCH_APPS_ROUNDS times
/// (default 20), alternating Degraded and Ready, COGRION_BENCH_APPS_PAUSE_MS apart (default: the agent's report spacing).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AppsBench : IAsyncLifetime
{
    private static readonly string[] Apps = ["spark-operator", "mlflow", "jupyterhub", "superset", "airflow", "trino"];
    // The agent's production beat (30 s, as the Portal here expects), not the tests' 1 s: a status change then reaches the page
    // through the agent's change report alone, spaced as in production (ADR 0128).
    private readonly BrowserAgentWorld world = new()
    {
        CatalogCharts = true,
        AgentEnvironment = AgentProcess.FastTimings.Where(t => t.Key != "Agent__HeartbeatInterval").ToDictionary(),
    };

    public Task InitializeAsync() => world.InitializeAsync();

    public Task DisposeAsync() => world.DisposeAsync();

    [BenchFact("apps")]
    public async Task Install_overhead_and_status_latency()
    {
        var rounds = int.Parse(Environment.GetEnvironmentVariable("COGRION_BENCH_APPS_ROUNDS") ?? "20", CultureInfo.InvariantCulture);
        // The figure is a single change's: the rounds are spaced by the agent's report spacing, so each is the first change
        // after a quiet spell. 0 makes them back to back, a churn whose later reports wait for the spacing by design.
        var pauseMs = Environment.GetEnvironmentVariable("COGRION_BENCH_APPS_PAUSE_MS");
        var pause = pauseMs is null
            ? new Cogrion.Agent.AppReportOptions().Spacing
            : TimeSpan.FromMilliseconds(int.Parse(pauseMs, CultureInfo.InvariantCulture));
        var (page, agent) = (world.Page, world.Agent);
        var chartDelay = new Cogrion.Sandbox.Cluster.ClusterOptions().ChartReadyDelay;

        var overheads = new List<double>();
        foreach (var app in Apps)
        {
            await page.GotoAsync($"/t/vault/workspaces/lake/catalog/{app}");
            await PortalStack.WaitUntilInteractiveAsync(page);
            var started = Stopwatch.GetTimestamp();
            await page.GetByRole(AriaRole.Button, new() { Name = "Install", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Status, new() { Name = "App status" })).ToHaveTextAsync("Ready",
                new() { Timeout = 120_000 });
            overheads.Add((Stopwatch.GetElapsedTime(started) - chartDelay).TotalMilliseconds);
        }

        // The page watches MLflow; the cluster's own controller state changes under it (its Deployment's ready replicas).
        await page.GotoAsync("/t/vault/workspaces/lake/apps/mlflow");
        await PortalStack.WaitUntilInteractiveAsync(page);
        var status = page.GetByRole(AriaRole.Status, new() { Name = "App status" });
        await Assertions.Expect(status).ToHaveTextAsync("Ready");
        var latencies = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            await Task.Delay(pause);
            var ready = round % 2 == 1;
            var started = Stopwatch.GetTimestamp();
            agent.Cluster.Store.Write(ResourceTypes.Deployment, "mlflow", "mlflow", stored =>
            {
                stored!["status"]!["readyReplicas"] = ready ? 1 : 0;
                stored["status"]!["availableReplicas"] = ready ? 1 : 0;
                return stored;
            });
            await Assertions.Expect(status).ToHaveTextAsync(ready ? "Ready" : "Degraded", new() { Timeout = 60_000 });
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        static double P(List<double> values, double q)
        {
            var sorted = values.Order().ToArray();
            return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        }
        var report = string.Join('\n',
            $"installs: {overheads.Count} ({string.Join(", ", Apps)}), chart delay ms: {chartDelay.TotalMilliseconds:0}",
            $"install overhead ms: p50 {P(overheads, 0.5):0}, max {overheads.Max():0} " +
                $"({string.Join(", ", Apps.Zip(overheads, (app, ms) => $"{app} {ms:0}"))})",
            $"status changes: {latencies.Count} ({pause.TotalMilliseconds:0} ms apart), p50 ms: {P(latencies, 0.5):0}, " +
                $"p95 ms: {P(latencies, 0.95):0}, max ms: {latencies.Max():0}",
            $"apps: install overhead ms: {P(overheads, 0.5):0}, status p95 ms: {P(latencies, 0.95):0}");
        await File.WriteAllTextAsync(Environment.GetEnvironmentVariable("COGRION_BENCH_APPS")!, report + "\n");
    }
}
