using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent;
using Cogrion.Agent.Identity;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Sandbox.Cluster.Runtime;
using Cogrion.Sandbox.Cluster.Store;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// The per-agent budget (Agents:AgentPermitsPerMinute) and the agent's share of it (ADR 0128): a churning cluster cannot run
/// it out, so the agent's heartbeats keep being accepted; when the Portal does refuse, it says when to come back and the agent
/// waits that long, and the latest app state still arrives.
/// </summary>
public sealed class AgentRateBudgetTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_churning_workload_stays_within_the_default_budget_the_agent_stays_online_and_its_last_state_arrives()
    {
        await using var scenario = await AgentScenario.StartAsync(
            settings: new Dictionary<string, string?>
            {
                ["Agents:AgentPermitsPerMinute"] = "120", // the default, not the fast tests' generous one
                ["Agents:HeartbeatInterval"] = "00:00:05",
                ["Agents:OfflineAfter"] = "00:00:30",
            },
            agentEnvironment: new Dictionary<string, string>(AgentProcess.FastTimings) { ["Agent__HeartbeatInterval"] = "00:00:05" });
        using var requests = new PortalRequests(scenario.Portal);
        // Flux's kinds served, no Flux controller: the release below is the test's alone.
        await scenario.Agent.InstallFluxCrdsAsync();
        Assert.Equal("succeeded",
            (await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.EnsureNamespace, AgentScenario.Namespace("lake")))).Status);
        var store = scenario.Agent.Cluster.Store;
        WriteRelease(store);
        SetReady(store, 0);
        await ReportedAsync(scenario, 0, "the app before the churn");

        // A workload whose readiness changes twenty times a second, 700 times (its pods crash and come back one by one): unspaced,
        // each settled change (the 100 ms debounce) would be a report, several a second, and the Portal's 120 a minute would run
        // out within seconds. (Each change differs from the one before the debounce window, or the reports would dedupe.)
        for (var flip = 1; flip <= 700; flip++)
        {
            SetReady(store, flip % 7);
            await Task.Delay(50);
        }
        SetReady(store, 8, replicas: 8); // a state the churn never showed: it must reach the Portal

        await ReportedAsync(scenario, 8, "the last state after the churn");
        var heartbeatsBefore = requests.Accepted(ProtocolV1.Heartbeat);
        await Eventually.ValueAsync(() => Task.FromResult(requests.Accepted(ProtocolV1.Heartbeat)), n => n > heartbeatsBefore,
            "a heartbeat accepted after the churn", Deadline);
        Assert.Equal("online", (await scenario.AgentAsync()).Health(DateTimeOffset.UtcNow, scenario.Portal.Get<AgentRegistry>().OfflineAfter));
        Assert.True(requests.Refused == 0, $"the Portal refused {requests.Refused} of the agent's calls: {requests.Describe()}");
        Assert.True(requests.Accepted(ProtocolV1.Heartbeat) > 12, $"heartbeats and reports kept being accepted: {requests.Describe()}");
    }

    [Fact]
    public async Task Refused_for_its_budget_the_agent_waits_the_retry_after_and_then_reports_the_latest_state()
    {
        // A budget the one-second test beat alone keeps spent: a bucket of 4, one token back every 4 s (ADR 0129).
        await using var scenario = await AgentScenario.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Agents:AgentPermitsPerMinute"] = "15",
        });
        using var requests = new PortalRequests(scenario.Portal);
        await scenario.Agent.InstallFluxCrdsAsync();
        await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.EnsureNamespace, AgentScenario.Namespace("lake")), deadline: Deadline);
        await Eventually.ValueAsync(() => Task.FromResult(requests.Refused), n => n > 0, "the Portal to refuse a call", Deadline);
        var refusedBefore = requests.Refused;
        var refusing = Stopwatch.StartNew();

        // Refused now, so this change waits for the Retry-After: nothing may drop it.
        var store = scenario.Agent.Cluster.Store;
        WriteRelease(store);
        SetReady(store, 2);
        await ReportedAsync(scenario, 2, "the change made while refused");

        // The Portal keeps refusing (the beat alone wants 60 a minute). The agent waits out each Retry-After (5 s) and then sends
        // what it held, one of each kind (a poll, a beat, a result, a report), of which the token or two that came back go through:
        // a few refusals per 5 s, however slow the machine (slower only stretches the time). An agent that did not wait would be
        // refused several times a second: its beat every second, its poll retried within half a second. Calls in flight when the
        // first refusal came may be refused with it.
        var refused = requests.Refused - refusedBefore;
        Assert.True(refused <= 12 + (int)refusing.Elapsed.TotalSeconds,
            $"the agent kept calling while refused: {refused} refusals in {refusing.Elapsed}: {requests.Describe()}");
        Assert.Contains("(429)", scenario.Agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_burst_past_the_bucket_is_refused_for_a_couple_of_seconds_not_a_minute_then_accepted_again()
    {
        // The default budget (120 a minute, a bucket of 30, ADR 0129), not the fast tests' generous one.
        var (portal, _, database) = await AgentScenario.StartPortalAsync(new Dictionary<string, string?>
        {
            ["Agents:AgentPermitsPerMinute"] = "120",
        });
        try
        {
            var token = await portal.Get<AgentEnrollment>().CreateBootstrapTokenAsync(Guid.NewGuid(), Guid.NewGuid(), AgentScenario.Admin,
                CancellationToken.None);
            using var agent = await ProtocolAgent.RegisterAsync(portal.BaseUrl, token.Token);
            var access = await agent.TokenAsync();
            var accepted = 0;
            HttpResponseMessage response;
            while ((response = await PollAsync(agent, access)).StatusCode != HttpStatusCode.TooManyRequests)
            {
                Assert.True(response.IsSuccessStatusCode, $"the poll answered {response.StatusCode}");
                accepted++;
            }
            Assert.True(accepted >= AgentRateLimits.BurstFor(120), $"only {accepted} calls went through before the first refusal");

            // A protocol value, not a measurement: one refill period (1 s) and the limiter's tick, rounded up. A fixed minute's window
            // said "the rest of the minute" here, up to 60.
            var seconds = RetryAfter(response);
            Assert.InRange(seconds, 1, 2);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(429, problem.GetProperty("status").GetInt32());
            Assert.Contains($"retry after {seconds} seconds", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

            // Back after the time it was told, as the agent does (PortalRetryAfter). The bucket refills at the limiter's 100 ms ticks on
            // the thread pool: on a starved machine a tick can come late, and then the Portal says again when, so the test waits as
            // the agent would, each time for what it was told, and the call is accepted.
            var refusedAgain = 0;
            for (; ; refusedAgain++)
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds));
                response = await PollAsync(agent, access);
                if (response.StatusCode != HttpStatusCode.TooManyRequests || refusedAgain == 5) break;
                seconds = RetryAfter(response);
                Assert.InRange(seconds, 1, 2);
            }
            Assert.True(response.IsSuccessStatusCode, $"after waiting as told, the poll answered {response.StatusCode}");
        }
        finally
        {
            await portal.DisposeAsync();
            await (await PostgresServer.GetAsync()).DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task Registration_from_one_address_is_still_limited_and_told_when_to_come_back()
    {
        // 4 a minute from one address: a bucket of 1, one token every 15 s.
        var (portal, _, database) = await AgentScenario.StartPortalAsync(new Dictionary<string, string?>
        {
            ["Agents:AnonymousPermitsPerMinute"] = "4",
        });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
            using var key = ProtocolKeys.Create();
            var first = await ProtocolAgent.RegisterRawAsync(http, "cgb_not-a-token", key);
            Assert.NotEqual(HttpStatusCode.TooManyRequests, first.StatusCode); // answered (the token is refused): the bucket let it in

            var refused = await ProtocolAgent.RegisterRawAsync(http, "cgb_not-a-token", key);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var seconds = RetryAfter(refused);
            Assert.InRange(seconds, 1, 16); // one 15 s period and the limiter's tick, rounded up
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Contains($"retry after {seconds} seconds", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await portal.DisposeAsync();
            await (await PostgresServer.GetAsync()).DropDatabaseAsync(database);
        }
    }

    private static Task<HttpResponseMessage> PollAsync(ProtocolAgent agent, string access) =>
        agent.SendAsync(HttpMethod.Get, $"{ProtocolV1.Commands}?wait=0", access);

    private static int RetryAfter(HttpResponseMessage response) =>
        int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_agents_client_holds_every_call_until_the_portals_retry_after_has_passed()
    {
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync(async http =>
        {
            Interlocked.Increment(ref calls);
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            http.Response.Headers.RetryAfter = "7";
            http.Response.ContentType = "application/problem+json";
            await http.Response.WriteAsync("""{"status":429,"title":"Too many requests","detail":"slow down"}""");
        });
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var hold = new PortalRetryAfter(time);
        using var client = new PortalClient(new AgentSession(), Options.Create(new AgentOptions { PortalUrl = server.BaseUrl }), time, hold);
        using var key = ProtocolKeys.Create();
        var request = new RegistrationRequest("cgb_token", ProtocolKeys.ExportPublicKey(key), "test", "test");

        var refused = await Assert.ThrowsAsync<PortalException>(() => client.RegisterAsync(request, CancellationToken.None));
        Assert.Equal(429, refused.StatusCode);
        Assert.True(refused.IsTransient);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(7), hold.Remaining);

        var again = client.RegisterAsync(request, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.False(again.IsCompleted);
        Assert.Equal(1, Volatile.Read(ref calls)); // not sent while the Portal said to wait
        time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<PortalException>(() => again);
        Assert.Equal(2, Volatile.Read(ref calls));
    }

    private static void WriteRelease(ObjectStore store) =>
        store.Write(HelmController.HelmRelease, "lake", "airflow", _ => new JsonObject
        {
            ["metadata"] = new JsonObject(),
            ["spec"] = new JsonObject { ["chart"] = new JsonObject { ["spec"] = new JsonObject { ["chart"] = "airflow", ["version"] = "1.15.0" } } },
        });

    /// <summary>The cluster's own state changing under the agent (the simulated controllers leave this workload alone).</summary>
    private static void SetReady(ObjectStore store, int ready, int replicas = 7) =>
        store.Write(ResourceTypes.Deployment, "lake", "airflow-webserver", _ => new JsonObject
        {
            ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [HelmController.SimulatedAnnotation] = "test" } },
            ["spec"] = new JsonObject { ["replicas"] = replicas },
            ["status"] = new JsonObject { ["replicas"] = replicas, ["readyReplicas"] = ready },
        });

    private static Task ReportedAsync(AgentScenario scenario, int ready, string what) =>
        Eventually.ValueAsync(async () => (await scenario.AgentAsync()).ParsedInventory()?.Apps?.SingleOrDefault(a => a.Namespace == "lake"),
            app => app?.Workloads.SingleOrDefault(w => w.Name == "airflow-webserver")?.Ready == ready, $"the agent to report {what}", Deadline);

    /// <summary>
    /// The agent API's answers, as this Portal's own request metrics count them (its meter factory is the scope, so other tests'
    /// Portals in this process do not count): the test's one agent is the only caller.
    /// </summary>
    private sealed class PortalRequests : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly ConcurrentDictionary<(string Route, int Status), int> answers = new();

        public PortalRequests(PortalServer portal)
        {
            var meters = portal.Services.GetRequiredService<IMeterFactory>();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == "http.server.request.duration") l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
            {
                string? route = null;
                var status = 0;
                foreach (var tag in tags)
                {
                    if (tag.Key == "http.route") route = tag.Value as string;
                    else if (tag.Key == "http.response.status_code")
                        status = Convert.ToInt32(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
                }
                if (route?.StartsWith(ProtocolV1.Prefix, StringComparison.Ordinal) == true) answers.AddOrUpdate((route, status), 1, (_, n) => n + 1);
            });
            listener.Start();
        }

        public int Refused => answers.Where(a => a.Key.Status == StatusCodes.Status429TooManyRequests).Sum(a => a.Value);

        public int Accepted(string route) => answers.Where(a => a.Key.Route == route && a.Key.Status is >= 200 and < 300).Sum(a => a.Value);

        public string Describe() => string.Join(", ", answers.OrderBy(a => a.Key.Route, StringComparer.Ordinal)
            .Select(a => $"{a.Key.Route} {a.Key.Status}: {a.Value}"));

        public void Dispose() => listener.Dispose();
    }
}
