using System.Text.Json.Nodes;
using Cogrion.Kubernetes;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Sandbox;
using Cogrion.Sandbox.Cluster.Runtime;
using Cogrion.Sandbox.Cluster.Store;

namespace Cogrion.Portal.Tests.Agents.Kubernetes;

/// <summary>
/// The simulated cluster's Flux acts only once Flux is installed, as a real cluster's: without Flux's CRDs the API does
/// not serve HelmReleases at all; with the CRDs but without Flux's controllers a HelmRelease stays as written, without
/// conditions; installing terraform/modules/flux's objects (the objects the sandbox derives from the module's chart.json
/// and values.yaml) brings the controllers up and the same release is fetched and installed.
/// </summary>
public sealed class SimulatedFluxTests
{
    [Fact]
    public void The_sandbox_installs_what_the_modules_values_pin()
    {
        var modules = Path.Combine(RepoPaths.Root, "terraform", "aws");
        var (chart, values, _) = FluxInstall.Read(modules);
        var objects = FluxInstall.Objects(new JsonObject { ["tenant_id"] = "t", ["workspace_id"] = "w" }, modules);

        Assert.Equal("flux2", chart["chart"]!.GetValue<string>());
        var deployments = objects.Where(o => Kind(o) == "Deployment").ToDictionary(o => o["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(["helm-controller", "source-controller"], deployments.Keys.Order(StringComparer.Ordinal));
        Assert.Equal($"{values["helmController"]!["image"]}:{values["helmController"]!["tag"]}",
            deployments["helm-controller"]["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
        Assert.Contains(objects, o => Kind(o) == "CustomResourceDefinition" && Name(o) == "helmreleases.helm.toolkit.fluxcd.io");
        Assert.Contains(objects, o => Kind(o) == "CustomResourceDefinition" && Name(o) == "helmrepositories.source.toolkit.fluxcd.io");
        // Only the two controllers catalog apps need.
        Assert.DoesNotContain(objects, o => Kind(o) == "CustomResourceDefinition" && Name(o).EndsWith(".kustomize.toolkit.fluxcd.io",
            StringComparison.Ordinal));
        Assert.Contains(objects, o => Kind(o) == "NetworkPolicy" && Name(o) == "allow-egress");
        // The module's main.tf gives helm_release the same two files the sandbox reads.
        var main = File.ReadAllText(Path.Combine(RepoPaths.Root, "terraform", "modules", "flux", "main.tf"));
        Assert.Contains("file(\"${path.module}/chart.json\")", main);
        Assert.Contains("file(\"${path.module}/values.yaml\")", main);
    }

    [Fact]
    public async Task A_cluster_without_Flux_refuses_its_kinds_and_with_only_its_CRDs_a_release_stays_without_conditions_until_Flux_runs()
    {
        await using var agent = await AgentProcess.StartClusterAsync(new Dictionary<string, string>(), catalogCharts: true, flux: false);
        var admin = agent.Admin;
        await admin.ApplyAsync(Namespace("airflow"), CancellationToken.None);

        // No CRD, no kind: the API server answers 404 for the path, as a real one does until Flux's CRDs are installed.
        var refused = await Assert.ThrowsAsync<KubernetesException>(() => admin.ApplyAsync(Release(), CancellationToken.None));
        Assert.Equal(404, refused.StatusCode);
        Assert.Equal("helmreleases", refused.NotServed?.Plural);

        // The CRDs alone (no controller): the kinds are served, and what is written stays as written.
        await agent.InstallFluxCrdsAsync();
        await admin.ApplyAsync(JsonNode.Parse("""
            { "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
              "metadata": { "name": "airflow", "namespace": "airflow" }, "spec": { "url": "https://airflow.apache.org", "interval": "1h" } }
            """)!.AsObject(), CancellationToken.None);
        await admin.ApplyAsync(Release(), CancellationToken.None);

        // A barrier instead of a sleep: the Deployment controller runs first in each pass of the cluster's controllers, Flux
        // after it. A Deployment applied after the release, seen at generation 2 (changed after its generation 1 was seen),
        // means a whole pass ran with the release stored.
        await admin.ApplyAsync(Barrier(1), CancellationToken.None);
        await Eventually.ValueAsync(() => Task.FromResult(agent.Cluster.Store.Get(ResourceTypes.Deployment, "airflow", "barrier")),
            d => ObjectStore.Number(d?["status"]?["observedGeneration"]) == 1, "the barrier's first pass", TimeSpan.FromSeconds(60));
        await admin.ApplyAsync(Barrier(2), CancellationToken.None);
        await Eventually.ValueAsync(() => Task.FromResult(agent.Cluster.Store.Get(ResourceTypes.Deployment, "airflow", "barrier")),
            d => ObjectStore.Number(d?["status"]?["observedGeneration"]) == 2, "the barrier's second pass", TimeSpan.FromSeconds(60));

        Assert.Null(agent.Cluster.Store.Get(HelmController.HelmRelease, "airflow", "airflow")!["status"]);
        Assert.Null(agent.Cluster.Store.Get(HelmController.HelmRepository, "airflow", "airflow")!["status"]);
        Assert.DoesNotContain(agent.Cluster.Store.List(ResourceTypes.Deployment, "airflow"), d => Name(d) == "airflow-webserver");

        await agent.InstallFluxAsync();

        var repository = await Eventually.ValueAsync(() => Task.FromResult(agent.Cluster.Store.Get(HelmController.HelmRepository, "airflow",
            "airflow")!), r => r["status"]?["artifact"] is not null, "source-controller to fetch the repository", TimeSpan.FromSeconds(60));
        Assert.Equal("True", repository["status"]!["conditions"]![0]!["status"]!.GetValue<string>());
        var release = await Eventually.ValueAsync(() => Task.FromResult(agent.Cluster.Store.Get(HelmController.HelmRelease, "airflow", "airflow")!),
            r => (r["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>()
                .Any(c => c["type"]!.GetValue<string>() == "Ready" && c["status"]!.GetValue<string>() == "True"),
            "helm-controller to install the release", TimeSpan.FromSeconds(90));
        Assert.Equal("1.15.0", release["status"]!["lastAttemptedRevision"]!.GetValue<string>());
        Assert.Contains(agent.Cluster.Store.List(ResourceTypes.Pod, "flux-system"), p => Name(p)
            .StartsWith("helm-controller-", StringComparison.Ordinal)
            && p["status"]?["containerStatuses"]?[0]?["ready"]?.GetValue<bool>() == true);
    }

    private static JsonObject Release() => JsonNode.Parse("""
        { "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
          "metadata": { "name": "airflow", "namespace": "airflow" },
          "spec": { "interval": "10m", "chart": { "spec": { "chart": "airflow", "version": "1.15.0",
            "sourceRef": { "kind": "HelmRepository", "name": "airflow" } } } } }
        """)!.AsObject();

    private static JsonObject Barrier(int replicas) => JsonNode.Parse($$"""
        { "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "barrier", "namespace": "airflow" },
          "spec": { "replicas": {{replicas}}, "selector": { "matchLabels": { "app": "barrier" } },
            "template": { "metadata": { "labels": { "app": "barrier" } },
              "spec": { "containers": [ { "name": "c", "image": "registry.example/none:1" } ] } } } }
        """)!.AsObject();

    private static JsonObject Namespace(string name) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Namespace",
        ["metadata"] = new JsonObject { ["name"] = name },
    };

    private static string Kind(JsonObject o) => o["kind"]?.GetValue<string>() ?? "";
    private static string Name(JsonObject o) => o["metadata"]?["name"]?.GetValue<string>() ?? "";
}
