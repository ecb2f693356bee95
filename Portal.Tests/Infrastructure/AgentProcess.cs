using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;
using Cogrion.Sandbox;
using Cogrion.Sandbox.Cluster;
using Cogrion.Sandbox.Cluster.Store;
using k8s;
using Microsoft.Extensions.Logging;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The real Portal.Agent binary, installed the way a cluster gets it: the repository's
/// install.yaml.tftpl rendered and applied as the cluster's admin to a simulated cluster hosted in the
/// test (the same classes sandbox-cluster runs), whose kubelet starts the agent from the Deployment.
/// The agent reaches the API server over HTTPS with its service account's token, and RBAC is the
/// install's. Only the agent's pacing is changed for tests (fast heartbeats and retries, in its env).
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    public const string Image = AgentInstall.ImageRepository + ":0.1.0";

    /// <summary>The agent build next to the tests (framework-dependent; the kubelet's node provides .NET).</summary>
    public static string Binary => Path.Combine(AppContext.BaseDirectory, "Portal.Agent");

    public static readonly IReadOnlyDictionary<string, string> FastTimings = new Dictionary<string, string>
    {
        ["Agent__HeartbeatInterval"] = "00:00:01",
        ["Agent__Retry__MinDelay"] = "00:00:00.200",
        ["Agent__Retry__MaxDelay"] = "00:00:00.500",
        ["Agent__Retry__LongMinDelay"] = "00:00:00.500",
        ["Agent__Retry__LongMaxDelay"] = "00:00:01",
        ["DOTNET_ENVIRONMENT"] = "Production",
    };

    private AgentProcess(SimulatedCluster cluster, KubernetesClient admin)
    {
        Cluster = cluster;
        Admin = admin;
    }

    public SimulatedCluster Cluster { get; }

    /// <summary>The simulated cluster's own log (its kubelet and controllers).</summary>
    public string LogFile { get; private init; } = "";

    /// <summary>The cluster's admin, over HTTPS with the same client the agent uses.</summary>
    public KubernetesClient Admin { get; }

    /// <summary>A cluster with the given images in its registry (default: this build as <see cref="Image"/>).</summary>
    /// <param name="catalogCharts">Serve the catalog's charts from its simulated Helm repositories (catalog/), as the sandbox does.</param>
    /// <param name="flux">Install Flux's controllers (default: when the catalog's charts are served).</param>
    public static async Task<AgentProcess> StartClusterAsync(IReadOnlyDictionary<string, string>? images = null, bool catalogCharts = false,
        bool? flux = null)
    {
        var log = Path.Combine(Path.GetTempPath(), $"cogrion-cluster-{Guid.NewGuid():N}.log");
        var loggers = LoggerFactory.Create(logging => logging.AddProvider(new FileLoggerProvider(log)));
        var cluster = await SimulatedCluster.StartAsync(new ClusterOptions
        {
            Images = images ?? new Dictionary<string, string> { [Image] = Binary },
            Charts = catalogCharts ? Cogrion.Sandbox.Cluster.Runtime.SimulatedCharts.Load(Path.Combine(RepoPaths.Root, "catalog")) : [],
        }, loggers);
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"cogrion-kubeconfig-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(kubeconfig, cluster.Kubeconfig());
        var configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        File.Delete(kubeconfig);
        // The cluster's admin (kubectl), who may also install CRDs: a kind the agent's own table leaves out.
        var admin = new KubernetesClient(configuration, fieldManager: "test-admin", moreKinds: [FluxInstall.CustomResourceDefinition]);
        var process = new AgentProcess(cluster, admin) { LogFile = log };
        // A cluster that serves the catalog's charts gets Flux too, as a workspace's stack installs it (terraform/modules/flux).
        if (flux ?? catalogCharts) await process.InstallFluxAsync();
        return process;
    }

    /// <summary>
    /// Flux's controllers as terraform/modules/flux installs them (the objects the sandbox derives from its chart.json and
    /// values.yaml, CRDs first), waiting until both Deployments are available: until then the simulated Flux does nothing.
    /// </summary>
    public async Task InstallFluxAsync()
    {
        foreach (var o in FluxObjects()) await Admin.ApplyAsync(o, CancellationToken.None);
        await Eventually.ValueAsync(() => Task.FromResult(
                Cogrion.Sandbox.Cluster.Runtime.FluxControllers.Available(Cluster.Store,
                    Cogrion.Sandbox.Cluster.Runtime.FluxControllers.HelmControllerImage)
                && Cogrion.Sandbox.Cluster.Runtime.FluxControllers.Available(Cluster.Store,
                    Cogrion.Sandbox.Cluster.Runtime.FluxControllers.SourceControllerImage)),
            available => available, "Flux's controllers to be available", TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Only Flux's CustomResourceDefinitions, as `kubectl apply` of its CRDs would leave a cluster: its kinds served, no controller.
    /// </summary>
    public async Task InstallFluxCrdsAsync()
    {
        foreach (var o in FluxObjects().Where(o => o["kind"]!.GetValue<string>() == "CustomResourceDefinition"))
            await Admin.ApplyAsync(o, CancellationToken.None);
    }

    private static IReadOnlyList<JsonObject> FluxObjects() => FluxInstall.Objects(
        new JsonObject { ["tenant_id"] = Guid.NewGuid().ToString(), ["workspace_id"] = Guid.NewGuid().ToString() },
        Path.Combine(RepoPaths.Root, "terraform", "aws"));

    /// <summary>Renders the repository's install template and applies every object, as `kubectl apply -f` or the module would.</summary>
    public async Task InstallAsync(Guid tenantId, Guid workspaceId, string portalUrl, string bootstrapToken, string image = Image,
        IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var template = await File.ReadAllTextAsync(TemplatePath);
        var rendered = InstallTemplate.Render(template, InstallTemplate.Values(tenantId, workspaceId, image, portalUrl, bootstrapToken));
        foreach (var document in InstallTemplate.SplitDocuments(rendered))
        {
            var manifest = YamlDocuments.Parse(document);
            if (manifest["kind"]?.GetValue<string>() == "Deployment")
            {
                var env = (JsonArray)manifest["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!;
                foreach (var (name, value) in extraEnvironment ?? FastTimings) env.Add(new JsonObject { ["name"] = name, ["value"] = value });
            }
            await Admin.ApplyAsync(manifest, CancellationToken.None);
        }
    }

    public static string TemplatePath => Path.Combine(RepoPaths.Root, "terraform", "modules", "cluster-agent", InstallTemplate.FileName);

    /// <summary>The agent's pods, oldest first.</summary>
    public IReadOnlyList<JsonObject> Pods() =>
        Cluster.Store.List(ResourceTypes.Pod, AgentInstall.Namespace, $"{AgentInstall.NameLabel}={AgentInstall.NameLabelValue}")
            .OrderBy(p => p["metadata"]?["creationTimestamp"]?.GetValue<string>(), StringComparer.Ordinal).ToList();

    /// <summary>Everything the agent's containers wrote, across pods and restarts.</summary>
    public string Output => string.Join("\n", Directory.Exists(PodsDirectory)
        ? Directory.GetFiles(PodsDirectory, "container.log", SearchOption.AllDirectories).Select(ReadShared)
        : []);

    private string PodsDirectory => Path.Combine(Cluster.Directory, "pods");

    private static string ReadShared(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }

    public async Task WaitForOutputAsync(string marker, TimeSpan? timeout = null)
    {
        try
        {
            await Eventually.ValueAsync(() => Task.FromResult(Output), output => output.Contains(marker, StringComparison.Ordinal),
                $"the agent to log \"{marker}\"", timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            // What a person would look at next: the pods' status and the Deployment's.
            var deployment = Cluster.Store.Get(ResourceTypes.Deployment, AgentInstall.Namespace, AgentInstall.Deployment);
            throw new TimeoutException($"{ex.Message}\nCluster log: {(File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(none)")}\nDeployment " +
                $"status: {deployment?["status"]?.ToJsonString()}\nPods: {string.Join("\n", Pods().Select(p => p["status"]?.ToJsonString()))}", ex);
        }
    }

    /// <summary>The cluster's objects, keyed apiVersion|Kind|namespace|name, as JSON.</summary>
    public string ClusterSnapshot()
    {
        var all = new JsonObject();
        foreach (var type in ResourceTypes.All)
            foreach (var o in Cluster.Store.List(type, null))
                all[ObjectStore.Key(type, o["metadata"]?["namespace"]?.GetValue<string>(), o["metadata"]!["name"]!.GetValue<string>())] = o;
        return all.ToJsonString();
    }

    /// <summary>Stops the agent as an operator would: the Deployment scaled to zero.</summary>
    public async Task ScaleToZeroAsync()
    {
        await Admin.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = AgentInstall.Deployment, ["namespace"] = AgentInstall.Namespace },
            ["spec"] = new JsonObject { ["replicas"] = 0 },
        }, CancellationToken.None);
        await Eventually.ValueAsync(() => Task.FromResult(Pods().Count), count => count == 0, "the agent's pods to stop");
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Cluster.DisposeAsync();
    }
}
