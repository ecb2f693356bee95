using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Cogrion.Agent;
using Cogrion.Agent.Kubernetes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Tests.Agents.Kubernetes;

public sealed class SimulatedClusterTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("cogrion-sim-").FullName;

    private SimulatedCluster NewCluster() => new(Options.Create(new AgentOptions { StateDirectory = directory }), TimeProvider.System);

    private static JsonObject Namespace(string name) => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "Namespace",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { [AgentLabels.ManagedBy] = AgentLabels.ManagedByValue } },
    };

    [Fact]
    public async Task A_restarted_agent_finds_its_simulated_cluster_as_it_left_it()
    {
        await NewCluster().ApplyAsync(Namespace("kept"), CancellationToken.None);

        var reopened = NewCluster();

        Assert.NotNull(await reopened.GetAsync(new ObjectReference("v1", "Namespace", "kept", null), CancellationToken.None));
    }

    [Fact]
    public async Task Deleting_a_namespace_deletes_what_is_inside_it()
    {
        var cluster = NewCluster();
        await cluster.ApplyAsync(Namespace("app"), CancellationToken.None);
        await cluster.ApplyAsync(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = "c", ["namespace"] = "app" } }, CancellationToken.None);

        await cluster.DeleteAsync(new ObjectReference("v1", "Namespace", "app", null), CancellationToken.None);

        Assert.Null(await cluster.GetAsync(new ObjectReference("v1", "ConfigMap", "c", "app"), CancellationToken.None));
    }

    [Fact]
    public async Task Applying_into_a_missing_namespace_fails_like_the_api_server()
    {
        var error = await Assert.ThrowsAsync<KubernetesException>(() => NewCluster().ApplyAsync(
            new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = "c", ["namespace"] = "nowhere" } },
            CancellationToken.None));

        Assert.Equal(404, error.StatusCode);
    }

    [Fact]
    public async Task Label_selectors_pick_only_matching_objects()
    {
        var cluster = NewCluster();
        await cluster.ApplyAsync(Namespace("mine"), CancellationToken.None);
        await cluster.ApplyAsync(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "other" } }, CancellationToken.None);

        var managed = await cluster.ListAsync("v1", "Namespace", null, AgentLabels.ManagedSelector, CancellationToken.None);

        Assert.Equal("mine", Assert.Single(managed)["metadata"]!["name"]!.GetValue<string>());
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
