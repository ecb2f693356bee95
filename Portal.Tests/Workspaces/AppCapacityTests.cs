using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// The capacity check before an install. The real agent in a simulated cluster reports the nodes' allocatable minus the
/// requests of the pods bound to them, and a pod that takes most of it shows in the next report; the API refuses an
/// install that does not fit with 400 problem details saying what is short, and takes one that fits.
/// </summary>
public sealed class AppCapacityTests(WorkspaceAgentWorld world) : IClassFixture<WorkspaceAgentWorld>
{
    private const string Apps = $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/workspaces/{WorkspaceAgentWorld.WorkspaceName}/apps";

    [Fact]
    public async Task The_agent_reports_allocatable_minus_requests_and_a_pod_that_takes_it_shows_in_the_next_report()
    {
        await using var scenario = await AgentScenario.StartAsync();
        // Three sandbox nodes of 3920m and 15Gi allocatable, less what the agent's own pod requests.
        var before = await AvailableAsync(scenario, a => a.CpuCores > 11);
        Assert.InRange(before.CpuCores, 11.5, 11.76);
        Assert.InRange(before.MemoryBytes, 44L << 30, 45L << 30);

        await scenario.Agent.Admin.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = "hog", ["namespace"] = AgentInstall.Namespace },
            ["spec"] = new JsonObject
            {
                ["containers"] = new JsonArray(new JsonObject
                {
                    ["name"] = "hog",
                    ["image"] = "registry.example/hog:1",
                    ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["cpu"] = "10", ["memory"] = "40Gi" } },
                }),
            },
        }, default);
        var after = await AvailableAsync(scenario, a => a.CpuCores < 2);
        Assert.Equal(before.CpuCores - 10, after.CpuCores, 3);
        Assert.Equal(before.MemoryBytes - (40L << 30), after.MemoryBytes);
        var trino = new AppCatalog(Path.Combine(RepoPaths.Root, "catalog")).Find("trino")!;
        var check = AppCapacity.Check(trino, (await scenario.AgentAsync()).ParsedInventory());
        Assert.Contains("Trino needs 3 CPU and 12 GiB of memory", check.Shortfall, StringComparison.Ordinal);
        Assert.Contains("Short by ", check.Shortfall, StringComparison.Ordinal);
        Assert.Contains(" CPU and ", check.Shortfall, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_install_that_does_not_fit_is_a_400_saying_what_is_short_and_one_that_fits_is_taken()
    {
        await HeartbeatAsync(new ClusterCapacity(1.5, 4L << 30, 100));
        var refused = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Post, Apps, WorkspaceAgentWorld.Json("""{ "app": "trino" }""")));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        var message = problem["errors"]!["capacity"]![0]!.GetValue<string>();
        Assert.Contains("Trino needs 3 CPU and 12 GiB of memory", message, StringComparison.Ordinal);
        Assert.Contains("Short by 1.5 CPU and 8 GiB of memory", message, StringComparison.Ordinal);
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from workspace_apps where app = 'trino'"));

        var taken = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Post, Apps, WorkspaceAgentWorld.Json("""{ "app": "spark-operator" }""")));
        Assert.Equal(HttpStatusCode.Created, taken.StatusCode);
    }

    private async Task HeartbeatAsync(ClusterCapacity available)
    {
        var inventory = new ClusterInventory("v1.32.0", [], new ClusterCapacity(12, 48L << 30, 330), [], [], available);
        var response = await world.Agent.SendAsync(HttpMethod.Post, ProtocolV1.Heartbeat, await world.AgentTokenAsync(),
            JsonContent.Create(new HeartbeatRequest("0.1.0", inventory), ProtocolJson.Default.HeartbeatRequest));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Task<ClusterCapacity> AvailableAsync(AgentScenario scenario, Func<ClusterCapacity, bool> accept) =>
        Eventually.ValueAsync(async () => (await scenario.AgentAsync()).ParsedInventory()?.Available!, a => a is not null && accept(a),
            "the agent to report the cluster's free capacity", TimeSpan.FromMinutes(2));
}
