using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cogrion.Sandbox.Cluster.Api;
using Cogrion.Sandbox.Cluster.Runtime;
using Cogrion.Sandbox.Cluster.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cogrion.Sandbox.Cluster;

/// <summary>How to start a simulated cluster.</summary>
public sealed record ClusterOptions
{
    /// <summary>The cluster's directory (objects, CA, pods' files); null keeps it in memory and in a temporary directory (tests).</summary>
    public string? Directory { get; init; }

    /// <summary>Image reference → executable, the node's "registry".</summary>
    public IReadOnlyDictionary<string, string> Images { get; init; } = new Dictionary<string, string>();

    /// <summary>What /version and the nodes report.</summary>
    public string KubernetesVersion { get; init; } = "v1.31.0-sandbox";

    /// <summary>The lifeline every container runs under (default: next to this assembly).</summary>
    public string? Lifeline { get; init; }

    /// <summary>The charts the simulated Helm repositories serve (see <see cref="SimulatedCharts"/>).</summary>
    public IReadOnlyList<SimulatedChart> Charts { get; init; } = [];

    /// <summary>How long a simulated chart's workloads take to become ready (the chart's own delay).</summary>
    public TimeSpan ChartReadyDelay { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// One sandbox workspace's Kubernetes: the API server over HTTPS on a loopback port (its CA in the
/// cluster's directory), the Deployment controller and the kubelet, reconciling whenever an object
/// changes. Pods do not survive their node: at start, pods left by an earlier run are removed and
/// their Deployments make new ones. See docs/sandbox.md.
/// </summary>
public sealed class SimulatedCluster : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task loop;
    private readonly Kubelet kubelet;
    private readonly string? temporaryDirectory;
    private readonly TokenRegistry tokens;

    private SimulatedCluster(WebApplication app, ObjectStore store, ApiServer api, Kubelet kubelet, DeploymentController controller,
        HelmController helm,
        ClusterCertificates certificates, TokenRegistry tokens, string url, string adminToken, string directory, string? temporaryDirectory,
            ILogger logger)
    {
        this.tokens = tokens;
        this.app = app;
        Directory = directory;
        Store = store;
        Api = api;
        this.kubelet = kubelet;
        Certificates = certificates;
        Url = url;
        AdminToken = adminToken;
        this.temporaryDirectory = temporaryDirectory;
        loop = Task.Run(() => RunAsync(controller, helm, logger));
    }

    public ObjectStore Store { get; }
    public ApiServer Api { get; }

    /// <summary>The cluster's directory (for an in-memory cluster, a temporary one holding its pods' files).</summary>
    public string Directory { get; }
    public ClusterCertificates Certificates { get; }

    /// <summary>https://127.0.0.1:PORT</summary>
    public string Url { get; }

    /// <summary>A system:masters token, as the cloud hands the cluster's creator (the OpenTofu provider applies with it).</summary>
    public string AdminToken { get; }

    public static async Task<SimulatedCluster> StartAsync(ClusterOptions options, ILoggerFactory? loggers = null,
        CancellationToken cancellationToken = default)
    {
        loggers ??= NullLoggerFactory.Instance;
        var logger = loggers.CreateLogger("sandbox-cluster");
        var temporary = options.Directory is null ? System.IO.Directory.CreateTempSubdirectory("cogrion-cluster-").FullName : null;
        var directory = options.Directory ?? temporary!;
        System.IO.Directory.CreateDirectory(directory);
        var time = TimeProvider.System;
        var store = new ObjectStore(options.Directory is null ? null : Path.Combine(directory, "objects.json"), time);
        foreach (var pod in store.List(ResourceTypes.Pod, null))
            store.Delete(ResourceTypes.Pod, pod["metadata"]!["namespace"]!.GetValue<string>(), pod["metadata"]!["name"]!.GetValue<string>());
        AddNodes(store, options.KubernetesVersion);

        var certificates = ClusterCertificates.LoadOrCreate(directory);
        var tokens = new TokenRegistry();
        var adminToken = tokens.Issue(UserInfo.Admin);
        var api = new ApiServer(store, new Rbac(store), tokens, options.KubernetesVersion, time, Path.Combine(directory, "pods"));

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificates.Server)));
        var app = builder.Build();
        app.Run(api.HandleAsync);
        await app.StartAsync(cancellationToken);
        var url = app.Urls.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        var port = new Uri(url).Port;

        var node = new NodeEnvironment
        {
            Images = options.Images,
            PodsDirectory = Path.Combine(directory, "pods"),
            ApiHost = "127.0.0.1",
            ApiPort = port,
            CaPem = certificates.AuthorityPem,
            Lifeline = options.Lifeline ?? Path.Combine(AppContext.BaseDirectory, "cogrion-lifeline"),
        };
        var kubelet = new Kubelet(store, tokens, node, time, logger);
        var controller = new DeploymentController(store, time);
        var helm = new HelmController(store, options.Charts, options.ChartReadyDelay, time);
        logger.LogInformation("Simulated cluster serving at https://127.0.0.1:{Port}", port);
        return new SimulatedCluster(app, store, api, kubelet, controller, helm, certificates, tokens, $"https://127.0.0.1:{port}", adminToken,
            directory, temporary, logger);
    }

    /// <summary>A token for a service account, as `kubectl create token` (the TokenRequest API) gives one.</summary>
    public string CreateToken(string ns, string serviceAccount) => tokens.Issue(UserInfo.ServiceAccount(ns, serviceAccount));

    /// <summary>A kubeconfig with the admin's credentials, as the cloud's console would give one (0600).</summary>
    public string Kubeconfig() => $"""
        apiVersion: v1
        kind: Config
        clusters:
          - name: sandbox
            cluster:
              server: {Url}
              certificate-authority-data: {Convert.ToBase64String(Encoding.UTF8.GetBytes(Certificates.AuthorityPem))}
        users:
          - name: sandbox-admin
            user:
              token: {AdminToken}
        contexts:
          - name: sandbox
            context:
              cluster: sandbox
              user: sandbox-admin
        current-context: sandbox

        """;

    private async Task RunAsync(DeploymentController controller, HelmController helm, ILogger logger)
    {
        var token = stopping.Token;
        while (!token.IsCancellationRequested)
        {
            var next = Store.NextChange;
            try
            {
                controller.Reconcile();
                helm.Reconcile();
                Runtime.PersistentVolumeController.Reconcile(Store);
                await kubelet.SyncAsync(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "The simulated cluster's controllers failed a pass; trying again");
            }
            try
            {
                // Half a second at most (the kubelet's pods), and no later than the chart's own readiness falls due: Helm's wait
                // ends when the workloads are ready, not at the next pass after that.
                var wait = TimeSpan.FromMilliseconds(500);
                if (helm.NextDue is { } due && due - TimeProvider.System.GetUtcNow() is var untilDue && untilDue < wait)
                    wait = untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue;
                await Task.WhenAny(next, Task.Delay(wait, token));
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static void AddNodes(ObjectStore store, string version)
    {
        for (var i = 1; i <= 3; i++)
        {
            var name = $"sandbox-node-{i}";
            if (store.Get(ResourceTypes.Node, null, name) is not null) continue;
            store.Write(ResourceTypes.Node, null, name, _ => new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["kubernetes.io/hostname"] = name } },
                ["status"] = new JsonObject
                {
                    ["capacity"] = new JsonObject { ["cpu"] = "4", ["memory"] = "16Gi", ["pods"] = "110" },
                    // What the kubelet keeps for the system and eviction, as a real node's allocatable is below its capacity.
                    ["allocatable"] = new JsonObject { ["cpu"] = "3920m", ["memory"] = "15Gi", ["pods"] = "110" },
                    ["nodeInfo"] = new JsonObject { ["kubeletVersion"] = version },
                    ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
                },
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        try { await loop; } catch (OperationCanceledException) { }
        await kubelet.DisposeAsync();
        Api.CloseWatches(); // Open watches would otherwise hold the server's graceful stop until its timeout.
        await app.StopAsync();
        await app.DisposeAsync();
        if (temporaryDirectory is not null)
            try { System.IO.Directory.Delete(temporaryDirectory, recursive: true); } catch (IOException) { }
    }
}
