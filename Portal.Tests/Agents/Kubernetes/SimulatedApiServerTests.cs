using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Sandbox.Cluster;
using Cogrion.Sandbox.Cluster.Runtime;

namespace Cogrion.Portal.Tests.Agents.Kubernetes;

/// <summary>
/// The sandbox's API server enforces RBAC per request from the Roles and bindings actually applied
/// (here: the install template's), answers refusals with Kubernetes' Status body, and refuses a
/// binding that would grant rights its author does not hold. Over HTTPS, as the agent sees it. A custom kind
/// (Flux's) is served only while its CustomResourceDefinition is installed, as a real API server serves it.
/// </summary>
public sealed class SimulatedApiServerTests : IAsyncLifetime
{
    private AgentProcess cluster = null!;
    private HttpClient agent = null!;

    public async Task InitializeAsync()
    {
        cluster = await AgentProcess.StartClusterAsync(new Dictionary<string, string>());
        await cluster.InstallAsync(Guid.NewGuid(), Guid.NewGuid(), "https://portal.test", "cgr_bt_test-token-of-sufficient-length-000000");
        agent = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _)
                => certificate?.Issuer == cluster.Cluster.Certificates.Authority.Subject,
        })
        { BaseAddress = new Uri(cluster.Cluster.Url) };
        agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            cluster.Cluster.CreateToken(AgentInstall.Namespace, AgentInstall.ServiceAccount));
    }

    public async Task DisposeAsync()
    {
        agent.Dispose();
        await cluster.DisposeAsync();
    }

    [Fact]
    public async Task The_agent_may_read_its_state_secret_but_no_other_secret_of_its_namespace()
    {
        var own = await agent.GetAsync($"/api/v1/namespaces/{AgentInstall.Namespace}/secrets/{AgentInstall.StateSecret}");
        var other = await agent.GetAsync($"/api/v1/namespaces/{AgentInstall.Namespace}/secrets/{AgentInstall.BootstrapSecret}");

        Assert.Equal(HttpStatusCode.NotFound, own.StatusCode); // allowed; it does not exist yet
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        var status = JsonNode.Parse(await other.Content.ReadAsStringAsync())!;
        Assert.Equal("Status", status["kind"]!.GetValue<string>());
        Assert.Equal("Forbidden", status["reason"]!.GetValue<string>());
        Assert.Equal(403, status["code"]!.GetValue<int>());
        Assert.Equal($"secrets \"{AgentInstall.BootstrapSecret}\" is forbidden: User " +
            $"\"system:serviceaccount:{AgentInstall.Namespace}:{AgentInstall.ServiceAccount}\" cannot get resource \"secrets\" in API group \"\" " +
            $"in the namespace \"{AgentInstall.Namespace}\"",
            status["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_agent_may_impersonate_only_the_support_reader_which_reads_pods_but_no_secret()
    {
        static async Task<string> MessageAsync(HttpResponseMessage response) =>
            JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]!.GetValue<string>();

        async Task<HttpResponseMessage> AsAsync(string user, string path)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("Impersonate-User", user);
            return await agent.SendAsync(request);
        }

        var pods = await AsAsync(AgentInstall.SupportReaderUser, $"/api/v1/namespaces/{AgentInstall.Namespace}/pods");
        var secret = await AsAsync(AgentInstall.SupportReaderUser, $"/api/v1/namespaces/{AgentInstall.Namespace}/secrets/{AgentInstall.StateSecret}");
        var configMaps = await AsAsync(AgentInstall.SupportReaderUser, $"/api/v1/namespaces/{AgentInstall.Namespace}/configmaps");
        var admin = await AsAsync("kubernetes-admin", "/api/v1/secrets");
        var other = await AsAsync($"system:serviceaccount:{AgentInstall.Namespace}:default", "/api/v1/namespaces/default/pods");

        Assert.Equal(HttpStatusCode.OK, pods.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, secret.StatusCode); // the agent itself may read this one; its reader may not
        Assert.Contains($"User \"{AgentInstall.SupportReaderUser}\" cannot get resource \"secrets\"", await MessageAsync(secret));
        Assert.Equal(HttpStatusCode.Forbidden, configMaps.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        Assert.Contains("cannot impersonate resource \"users\"", await MessageAsync(admin));
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Contains("cannot impersonate resource \"serviceaccounts\"", await MessageAsync(other));
        var audited = cluster.Cluster.Api.Audit.Last(e => e.Path.EndsWith("/configmaps", StringComparison.Ordinal));
        Assert.Equal((AgentInstall.SupportReaderUser, $"system:serviceaccount:{AgentInstall.Namespace}:{AgentInstall.ServiceAccount}"),
            (audited.User, audited.ImpersonatedBy));
    }

    [Fact]
    public async Task The_agent_may_patch_its_own_deployment_and_no_other()
    {
        var own = await agent.GetAsync($"/apis/apps/v1/namespaces/{AgentInstall.Namespace}/deployments/{AgentInstall.Deployment}");
        var listing = await agent.GetAsync($"/apis/apps/v1/namespaces/{AgentInstall.Namespace}/deployments");

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, listing.StatusCode);
    }

    [Fact]
    public async Task Cluster_wide_the_agent_reads_nodes_but_not_secrets()
    {
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/api/v1/nodes")).StatusCode);
        var secrets = await agent.GetAsync("/api/v1/secrets");
        Assert.Equal(HttpStatusCode.Forbidden, secrets.StatusCode);
        Assert.Contains("at the cluster scope", await secrets.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_agent_may_bind_the_workload_role_and_no_other()
    {
        await cluster.Admin.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["metadata"] = new JsonObject { ["name"] = "app-one" },
        }, CancellationToken.None);

        var workload = await BindAsync(AgentInstall.WorkloadClusterRole);
        var admin = await BindAsync("cluster-admin");

        Assert.Equal(HttpStatusCode.Created, workload.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        Assert.Contains("\"cluster-admin\" not found", JsonNode.Parse(await admin.Content.ReadAsStringAsync())!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_request_without_a_valid_token_is_unauthorized()
    {
        using var anonymous = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nodes");
        anonymous.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        var response = await agent.SendAsync(anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_custom_kind_is_not_served_until_its_CRD_is_stored()
    {
        using var admin = AdminClient();
        await cluster.Admin.ApplyAsync(Namespace("lake"), CancellationToken.None);

        var before = await ApplyReleaseAsync(admin, "lake", "airflow");
        var listBefore = await admin.GetAsync(ReleasesPath);

        Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        var status = JsonNode.Parse(await before.Content.ReadAsStringAsync())!;
        Assert.Equal("NotFound", status["reason"]!.GetValue<string>());
        Assert.Equal("the server could not find the requested resource", status["message"]!.GetValue<string>());
        Assert.Null(status["details"]?["name"]); // the path, not an object, is unknown
        Assert.Equal(HttpStatusCode.NotFound, listBefore.StatusCode);
        Assert.Empty(cluster.Cluster.Store.List(HelmController.HelmRelease, null));

        await cluster.InstallFluxCrdsAsync();

        var crd = JsonNode.Parse(await (await admin.GetAsync(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/helmreleases.helm.toolkit.fluxcd.io")).Content.ReadAsStringAsync())!;
        Assert.Contains(crd["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "Established"
            && c["status"]!.GetValue<string>() == "True");
        Assert.Equal(HttpStatusCode.Created, (await ApplyReleaseAsync(admin, "lake", "airflow")).StatusCode);
        var listed = JsonNode.Parse(await (await admin.GetAsync(ReleasesPath)).Content.ReadAsStringAsync())!;
        Assert.Equal("airflow", Assert.Single(listed["items"]!.AsArray())!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deleting_a_CRD_deletes_its_objects_ends_their_watches_and_the_kind_is_no_longer_served()
    {
        using var admin = AdminClient();
        await cluster.Admin.ApplyAsync(Namespace("lake"), CancellationToken.None);
        await cluster.InstallFluxCrdsAsync();
        Assert.Equal(HttpStatusCode.Created, (await ApplyReleaseAsync(admin, "lake", "airflow")).StatusCode);
        var repository = new ObjectReference("source.toolkit.fluxcd.io/v1", "HelmRepository", "airflow", "lake");
        await cluster.Admin.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = repository.ApiVersion,
            ["kind"] = repository.Kind,
            ["metadata"] = new JsonObject { ["name"] = repository.Name, ["namespace"] = repository.Namespace },
            ["spec"] = new JsonObject { ["url"] = "https://airflow.apache.org" },
        }, CancellationToken.None);
        var version = JsonNode.Parse(await (await admin.GetAsync(ReleasesPath)).Content.ReadAsStringAsync())!["metadata"]!["resourceVersion"]!;
        // The server would keep the watch open for ten minutes; the test gives up (and fails) after two.
        using var watching = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var watch = await admin.GetAsync($"{ReleasesPath}?watch=true&resourceVersion={version}&timeoutSeconds=600",
            HttpCompletionOption.ResponseHeadersRead, watching.Token);

        var deleted = await admin.DeleteAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/helmreleases.helm.toolkit.fluxcd.io");

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        // The watch sends the release's deletion, then the server ends it: reading to the end returns.
        var events = (await watch.Content.ReadAsStringAsync(watching.Token)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!).ToList();
        var gone = Assert.Single(events);
        Assert.Equal("DELETED", gone["type"]!.GetValue<string>());
        Assert.Equal("airflow", gone["object"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{ReleasesPath}/airflow")).StatusCode);
        Assert.Empty(cluster.Cluster.Store.List(HelmController.HelmRelease, null));
        // Only the deleted CRD's kind went: the other Flux kind and its object stay.
        Assert.NotNull(await cluster.Admin.GetAsync(repository, CancellationToken.None));

        // Installed again, the kind is served again, without the objects it had.
        await cluster.InstallFluxCrdsAsync();
        var listed = JsonNode.Parse(await (await admin.GetAsync(ReleasesPath)).Content.ReadAsStringAsync())!;
        Assert.Empty(listed["items"]!.AsArray());
    }

    private const string ReleasesPath = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/lake/helmreleases";

    /// <summary>The cluster's admin over plain HTTP, as kubectl would call the API.</summary>
    private HttpClient AdminClient()
    {
        var client = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _)
                => certificate?.Issuer == cluster.Cluster.Certificates.Authority.Subject,
        })
        { BaseAddress = new Uri(cluster.Cluster.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cluster.Cluster.AdminToken);
        return client;
    }

    private static Task<HttpResponseMessage> ApplyReleaseAsync(HttpClient client, string ns, string name)
    {
        var release = new JsonObject
        {
            ["apiVersion"] = "helm.toolkit.fluxcd.io/v2",
            ["kind"] = "HelmRelease",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject { ["chart"] = new JsonObject { ["spec"] = new JsonObject { ["chart"] = "airflow", ["version"] = "1.15.0" } } },
        };
        var content = new StringContent(release.ToJsonString());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/apply-patch+yaml");
        return client.PatchAsync($"/apis/helm.toolkit.fluxcd.io/v2/namespaces/{ns}/helmreleases/{name}?fieldManager=kubectl&force=true", content);
    }

    private static JsonObject Namespace(string name) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Namespace",
        ["metadata"] = new JsonObject { ["name"] = name },
    };

    private async Task<HttpResponseMessage> BindAsync(string role)
    {
        var binding = new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1",
            ["kind"] = "RoleBinding",
            ["metadata"] = new JsonObject { ["name"] = $"bind-{role}", ["namespace"] = "app-one" },
            ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "ClusterRole", ["name"] = role },
            ["subjects"] = new JsonArray(new JsonObject
            {
                ["kind"] = "ServiceAccount",
                ["name"] = AgentInstall.ServiceAccount,
                ["namespace"] = AgentInstall.Namespace
            }),
        };
        var content = new StringContent(binding.ToJsonString());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/apply-patch+yaml");
        return await agent.PatchAsync(
            $"/apis/rbac.authorization.k8s.io/v1/namespaces/app-one/rolebindings/bind-{role}?fieldManager=cogrion-agent&force=true", content);
    }
}
