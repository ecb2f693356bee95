using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Cogrion.Agent;
using Cogrion.Agent.Commands;
using Cogrion.Agent.Kubernetes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Tests.Agents.Kubernetes;

/// <summary>The agent's typed Kubernetes client against a fake API server that checks what it is sent.</summary>
public sealed class KubernetesClientTests : IAsyncLifetime
{
    private FakeKubernetesApiServer server = null!;
    private KubernetesClient client = null!;

    public async Task InitializeAsync()
    {
        server = await FakeKubernetesApiServer.StartAsync();
        client = new KubernetesClient(new KubernetesConnection(new Uri(server.BaseUrl), () => "sa-token", null));
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await server.DisposeAsync();
    }

    private static JsonObject ConfigMap(string name, string ns) => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "ConfigMap",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["data"] = new JsonObject { ["a"] = "b" },
    };

    [Fact]
    public async Task Apply_is_a_server_side_apply_patch_with_the_agents_field_manager()
    {
        await client.ApplyAsync(ConfigMap("settings", "team-a"), CancellationToken.None);

        var request = Assert.Single(server.Requests);
        Assert.Equal("PATCH", request.Method);
        Assert.Equal("/api/v1/namespaces/team-a/configmaps/settings", request.Path);
        Assert.Equal("application/apply-patch+yaml", request.ContentType);
        Assert.Equal("?fieldManager=cogrion-agent&force=true", request.Query);
        Assert.Equal("Bearer sa-token", request.Authorization);
        Assert.Equal("b", JsonNode.Parse(request.Body)!["data"]!["a"]!.GetValue<string>());
    }

    [Fact]
    public async Task Objects_of_named_api_groups_are_addressed_under_apis()
    {
        await client.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = "web", ["namespace"] = "team-a" },
        }, CancellationToken.None);
        await client.ApplyAsync(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "team-a" } }, CancellationToken.None);

        Assert.Equal(["/apis/apps/v1/namespaces/team-a/deployments/web", "/api/v1/namespaces/team-a"], server.Requests.Select(r => r.Path));
    }

    [Fact]
    public async Task Get_returns_the_object_or_null_when_it_does_not_exist()
    {
        await client.ApplyAsync(ConfigMap("present", "team-a"), CancellationToken.None);

        Assert.NotNull(await client.GetAsync(new ObjectReference("v1", "ConfigMap", "present", "team-a"), CancellationToken.None));
        Assert.Null(await client.GetAsync(new ObjectReference("v1", "ConfigMap", "absent", "team-a"), CancellationToken.None));
    }

    [Fact]
    public async Task Delete_is_idempotent()
    {
        await client.ApplyAsync(ConfigMap("doomed", "team-a"), CancellationToken.None);
        var reference = new ObjectReference("v1", "ConfigMap", "doomed", "team-a");

        Assert.True(await client.DeleteAsync(reference, CancellationToken.None));
        Assert.False(await client.DeleteAsync(reference, CancellationToken.None));
        Assert.Equal("DELETE", server.Requests.Last().Method);
    }

    [Fact]
    public async Task List_sends_the_label_selector()
    {
        await client.ListAsync("v1", "Namespace", null, AgentLabels.ManagedSelector, CancellationToken.None);

        var request = Assert.Single(server.Requests);
        Assert.Equal("/api/v1/namespaces", request.Path);
        Assert.Equal("?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dcogrion-agent", request.Query);
    }

    [Fact]
    public async Task The_version_is_the_servers_git_version()
    {
        Assert.Equal("v1.31.2", await client.GetVersionAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_forbidden_call_is_explained_as_an_rbac_problem()
    {
        server.Forbidden.Add("/api/v1/namespaces/kube-system");

        var error = await Assert.ThrowsAsync<KubernetesException>(() => client.ApplyAsync(ConfigMap("x", "kube-system"), CancellationToken.None));

        Assert.Equal(403, error.StatusCode);
        Assert.Contains("RBAC does not allow it to apply ConfigMap kube-system/x", error.Message);
    }

    [Fact]
    public async Task An_unreachable_api_server_is_named_in_the_error()
    {
        using var nowhere = new KubernetesClient(new KubernetesConnection(new Uri("http://127.0.0.1:9"), () => null, null));

        var error = await Assert.ThrowsAsync<KubernetesException>(() => nowhere.GetVersionAsync(CancellationToken.None));

        Assert.Equal(0, error.StatusCode);
        Assert.Contains("Cannot reach the Kubernetes API at http://127.0.0.1:9", error.Message);
    }

    [Fact]
    public async Task Ensuring_a_namespace_applies_restricted_labels_the_agents_binding_a_quota_and_a_default_deny_policy()
    {
        var executor = new EnsureNamespaceExecutor(client, Options.Create(new AgentOptions()));
        var payload = JsonSerializer.SerializeToElement(new JsonObject { ["namespace"] = "tenant-jupyter", ["app"] = "jupyterhub" }, ProtocolJson.Default.JsonObject);

        var outcome = await executor.ExecuteAsync(new CommandEnvelope(Guid.NewGuid(), Guid.NewGuid(), CommandTypes.EnsureNamespace, payload, "k",
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1)), CancellationToken.None);

        Assert.Equal(CommandOutcomes.Succeeded, outcome.Outcome);
        Assert.All(server.Requests, r => Assert.Equal("application/apply-patch+yaml", r.ContentType));
        Assert.Equal(
        [
            "/api/v1/namespaces/tenant-jupyter",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/tenant-jupyter/rolebindings/cogrion-agent",
            "/api/v1/namespaces/tenant-jupyter/resourcequotas/cogrion-quota",
            "/apis/networking.k8s.io/v1/namespaces/tenant-jupyter/networkpolicies/default-deny",
        ], server.Requests.Select(r => r.Path));
        var ns = JsonNode.Parse(server.Requests.First().Body)!;
        Assert.Equal("restricted", ns["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]!.GetValue<string>());
        var policy = JsonNode.Parse(server.Requests.Last().Body)!;
        Assert.Equal(["Ingress", "Egress"], policy["spec"]!["policyTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Theory]
    [InlineData("kube-system")]
    [InlineData("default")]
    [InlineData("cogrion-agent")]
    [InlineData("Not_A_Name")]
    public void System_and_invalid_namespaces_are_refused_for_tenant_apps(string name)
    {
        Assert.Throws<InvalidPayloadException>(() => NamespaceRules.RequireAppNamespaceName(name));
    }
}
