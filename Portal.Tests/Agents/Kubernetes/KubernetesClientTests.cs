using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent;
using Cogrion.Agent.Commands;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Sandbox.Cluster;
using KubernetesClientConfiguration = k8s.KubernetesClientConfiguration;

namespace Cogrion.Portal.Tests.Agents.Kubernetes;

/// <summary>
/// The agent's Kubernetes client (KubernetesClient.Aot) against the simulated API server over HTTPS:
/// what it sends (server-side apply, the field manager, the bearer token, the paths of named API
/// groups) is read from the server's audit log, and RBAC answers come from the install's own roles.
/// </summary>
public sealed class KubernetesClientTests : IAsyncLifetime
{
    private AgentProcess cluster = null!;
    private KubernetesClient client = null!;

    public async Task InitializeAsync()
    {
        cluster = await AgentProcess.StartClusterAsync(new Dictionary<string, string>());
        client = cluster.Admin;
        await client.ApplyAsync(Namespace("team-a"), CancellationToken.None);
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    private static JsonObject Namespace(string name) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Namespace",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { [AgentLabels.ManagedBy] = AgentLabels.ManagedByValue } },
    };

    private static JsonObject ConfigMap(string name, string ns) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ConfigMap",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["data"] = new JsonObject { ["a"] = "b" },
    };

    private AuditEntryView Last(string pathPart) => cluster.Cluster.Api.Audit.Where(a => a.Path.Contains(pathPart, StringComparison.Ordinal))
        .Select(a => new AuditEntryView(a.User, a.Verb, a.Path, a.Code)).Last();

    private sealed record AuditEntryView(string User, string Verb, string Path, int Code);

    [Fact]
    public async Task Apply_is_a_server_side_apply_patch_with_the_field_manager_and_force()
    {
        var applied = await client.ApplyAsync(ConfigMap("settings", "team-a"), CancellationToken.None);

        Assert.Equal("b", applied["data"]!["a"]!.GetValue<string>());
        var request = Last("/configmaps/settings");
        Assert.Equal("patch", request.Verb);
        Assert.Equal("/api/v1/namespaces/team-a/configmaps/settings?fieldManager=test-admin&force=true", request.Path);
        Assert.Equal(201, request.Code);
        Assert.Equal("kubernetes-admin", request.User);
    }

    [Fact]
    public async Task Objects_of_named_api_groups_are_addressed_under_apis()
    {
        await client.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "networking.k8s.io/v1",
            ["kind"] = "NetworkPolicy",
            ["metadata"] = new JsonObject { ["name"] = "deny", ["namespace"] = "team-a" },
            ["spec"] = new JsonObject { ["podSelector"] = new JsonObject() },
        }, CancellationToken.None);

        Assert.StartsWith("/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/deny", Last("networkpolicies").Path);
    }

    [Fact]
    public async Task Flux_custom_resources_are_applied_read_listed_and_deleted_as_json()
    {
        await cluster.InstallFluxCrdsAsync();
        var release = new JsonObject
        {
            ["apiVersion"] = "helm.toolkit.fluxcd.io/v2",
            ["kind"] = "HelmRelease",
            ["metadata"] = new JsonObject { ["name"] = "airflow", ["namespace"] = "team-a" },
            ["spec"] = new JsonObject { ["chart"] = new JsonObject { ["spec"] = new JsonObject { ["chart"] = "airflow", ["version"] = "1.16.0" } } },
        };
        var applied = await client.ApplyAsync(release, CancellationToken.None);

        Assert.Equal("1.16.0", applied["spec"]!["chart"]!["spec"]!["version"]!.GetValue<string>());
        Assert.StartsWith("/apis/helm.toolkit.fluxcd.io/v2/namespaces/team-a/helmreleases/airflow", Last("helmreleases").Path);
        var reference = new ObjectReference("helm.toolkit.fluxcd.io/v2", "HelmRelease", "airflow", "team-a");
        Assert.NotNull(await client.GetAsync(reference, CancellationToken.None));
        var listed = Assert.Single(await client.ListAsync("helm.toolkit.fluxcd.io/v2", "HelmRelease", "team-a", null, CancellationToken.None));
        Assert.Equal("airflow", listed["metadata"]!["name"]!.GetValue<string>());
        Assert.True(await client.DeleteAsync(reference, CancellationToken.None));
        Assert.Null(await client.GetAsync(reference, CancellationToken.None));
    }

    [Fact]
    public async Task A_kind_the_cluster_does_not_serve_is_an_error_that_names_it_never_a_missing_object()
    {
        var reference = new ObjectReference("helm.toolkit.fluxcd.io/v2", "HelmRelease", "airflow", "team-a");

        var read = await Assert.ThrowsAsync<KubernetesException>(() => client.GetAsync(reference, CancellationToken.None));
        var deleted = await Assert.ThrowsAsync<KubernetesException>(() => client.DeleteAsync(reference, CancellationToken.None));
        var listed = await Assert.ThrowsAsync<KubernetesException>(() =>
            client.ListAsync(reference.ApiVersion, reference.Kind, "team-a", null, CancellationToken.None));

        foreach (var failure in new[] { read, deleted, listed })
        {
            Assert.Equal(404, failure.StatusCode);
            Assert.Equal("helmreleases", failure.NotServed?.Plural);
            Assert.Contains("CustomResourceDefinition is not installed", failure.Message);
        }
        // An object that is missing is still just missing.
        Assert.Null(await client.GetAsync(new ObjectReference("v1", "ConfigMap", "absent", "team-a"), CancellationToken.None));
        var absentNamespace = await Assert.ThrowsAsync<KubernetesException>(() => client.ApplyAsync(ConfigMap("x", "no-such-namespace"),
            CancellationToken.None));
        Assert.Null(absentNamespace.NotServed);
    }

    [Fact]
    public async Task The_agents_kinds_leave_out_CRDs_which_a_caller_that_installs_them_passes_to_its_client()
    {
        var crd = Assert.IsType<JsonObject>(JsonNode.Parse(
            """{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.com"}}"""));
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"cogrion-kubeconfig-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(kubeconfig, cluster.Cluster.Kubeconfig());
        var configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        File.Delete(kubeconfig);
        using var agentsClient = new KubernetesClient(configuration);

        Assert.DoesNotContain(ResourceKinds.All, k => k.Kind == "CustomResourceDefinition");
        var refused = await Assert.ThrowsAsync<KubernetesException>(() => agentsClient.ApplyAsync(crd, CancellationToken.None));
        Assert.Contains("does not manage CustomResourceDefinition", refused.Message);
        await cluster.InstallFluxCrdsAsync(); // the test's admin client, given the kind (as the sandbox's is)
        Assert.NotNull(await cluster.Admin.GetAsync(new ObjectReference("apiextensions.k8s.io/v1", "CustomResourceDefinition",
            "helmreleases.helm.toolkit.fluxcd.io", null), CancellationToken.None));
    }

    [Fact]
    public async Task Get_returns_the_object_or_null_when_it_does_not_exist()
    {
        await client.ApplyAsync(ConfigMap("present", "team-a"), CancellationToken.None);

        Assert.NotNull(await client.GetAsync(new ObjectReference("v1", "ConfigMap", "present", "team-a"), CancellationToken.None));
        Assert.Null(await client.GetAsync(new ObjectReference("v1", "ConfigMap", "absent", "team-a"), CancellationToken.None));
    }

    [Fact]
    public async Task Delete_is_idempotent_and_deleting_a_namespace_deletes_what_is_inside_it()
    {
        await client.ApplyAsync(Namespace("doomed"), CancellationToken.None);
        await client.ApplyAsync(ConfigMap("inside", "doomed"), CancellationToken.None);
        var reference = new ObjectReference("v1", "Namespace", "doomed", null);

        Assert.True(await client.DeleteAsync(reference, CancellationToken.None));
        Assert.False(await client.DeleteAsync(reference, CancellationToken.None));
        Assert.Null(await client.GetAsync(new ObjectReference("v1", "ConfigMap", "inside", "doomed"), CancellationToken.None));
    }

    [Fact]
    public async Task List_sends_the_label_selector_and_returns_complete_objects()
    {
        await client.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["metadata"] = new JsonObject { ["name"] = "unmanaged" }
        }, CancellationToken.None);

        var managed = await client.ListAsync("v1", "Namespace", null, AgentLabels.ManagedSelector, CancellationToken.None);

        Assert.Equal(["team-a"], managed.Select(n => n["metadata"]!["name"]!.GetValue<string>()));
        Assert.Equal("Namespace", managed[0]["kind"]!.GetValue<string>());
        Assert.Contains("labelSelector=app.kubernetes.io%2Fmanaged-by%3Dcogrion-agent", Last("/api/v1/namespaces?").Path);
    }

    [Fact]
    public async Task A_json_patch_changes_one_field_and_its_test_guards_it()
    {
        await client.ApplyAsync(ConfigMap("patched", "team-a"), CancellationToken.None);
        var reference = new ObjectReference("v1", "ConfigMap", "patched", "team-a");

        await client.JsonPatchAsync(reference, new JsonArray(
            new JsonObject { ["op"] = "test", ["path"] = "/data/a", ["value"] = "b" },
            new JsonObject { ["op"] = "replace", ["path"] = "/data/a", ["value"] = "c" }), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<KubernetesException>(() => client.JsonPatchAsync(reference, new JsonArray(
            new JsonObject { ["op"] = "test", ["path"] = "/data/a", ["value"] = "b" },
            new JsonObject { ["op"] = "replace", ["path"] = "/data/a", ["value"] = "d" }), CancellationToken.None));

        Assert.Equal(422, refused.StatusCode);
        Assert.Equal("c", (await client.GetAsync(reference, CancellationToken.None))!["data"]!["a"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_version_is_the_servers_git_version()
    {
        Assert.Equal("v1.31.0-sandbox", await client.GetVersionAsync(CancellationToken.None));
    }

    [Fact]
    public async Task An_unreachable_api_server_is_named_in_the_error()
    {
        using var nowhere = new KubernetesClient(new KubernetesClientConfiguration { Host = "https://127.0.0.1:9", SkipTlsVerify = true });

        var error = await Assert.ThrowsAsync<KubernetesException>(() => nowhere.GetVersionAsync(CancellationToken.None));

        Assert.Equal(0, error.StatusCode);
        Assert.Contains("Cannot reach the Kubernetes API at https://127.0.0.1:9", error.Message);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_clusters_ca_cannot_talk_to_it()
    {
        using var untrusting = new KubernetesClient(new KubernetesClientConfiguration
        {
            Host = cluster.Cluster.Url,
            AccessToken = cluster.Cluster.AdminToken
        });

        var error = await Assert.ThrowsAsync<KubernetesException>(() => untrusting.GetVersionAsync(CancellationToken.None));

        Assert.Equal(0, error.StatusCode);
    }

    [Fact]
    public async Task Ensuring_a_namespace_applies_restricted_labels_the_agents_binding_a_quota_and_a_default_deny_policy()
    {
        var executor = new EnsureNamespaceExecutor(client, new AgentPod(AgentInstall.Namespace));
        var payload = JsonSerializer.SerializeToElement(new JsonObject { ["namespace"] = "tenant-jupyter", ["app"] = "jupyterhub" },
            ProtocolJson.Default.JsonObject);

        var outcome = await executor.ExecuteAsync(new CommandEnvelope(Guid.NewGuid(), Guid.NewGuid(), CommandTypes.EnsureNamespace, payload, "k",
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1)), CancellationToken.None);

        Assert.Equal(CommandOutcomes.Succeeded, outcome.Outcome);
        Assert.Equal(
        [
            "/api/v1/namespaces/tenant-jupyter",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/tenant-jupyter/rolebindings/cogrion-agent",
            "/api/v1/namespaces/tenant-jupyter/resourcequotas/cogrion-quota",
            "/apis/networking.k8s.io/v1/namespaces/tenant-jupyter/networkpolicies/default-deny",
        ], cluster.Cluster.Api.Audit.Where(a => a.Path.Contains("tenant-jupyter", StringComparison.Ordinal)).Select(a => a.Path.Split('?')[0]));
        var ns = await client.GetAsync(new ObjectReference("v1", "Namespace", "tenant-jupyter", null), CancellationToken.None);
        Assert.Equal("restricted", ns!["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]!.GetValue<string>());
        var policy = await client.GetAsync(new ObjectReference("networking.k8s.io/v1", "NetworkPolicy", "default-deny", "tenant-jupyter"),
            CancellationToken.None);
        Assert.Equal(["Ingress", "Egress"], policy!["spec"]!["policyTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
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
