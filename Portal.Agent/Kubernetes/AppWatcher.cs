using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Kubernetes;

/// <summary>
/// Watches what an app's status is made of (ADR 0075), so the agent reports a change when it happens rather than at its
/// next beat: the namespaces it manages (cluster-wide, by its label, as <see cref="InventoryReader"/> lists them) and, in
/// each one labelled with an app, the HelmReleases, Deployments and StatefulSets. The watches are per namespace because
/// that is where the install grants the agent its workload rights (the cogrion-agent-workload role, bound in each app
/// namespace): nothing cluster-wide beyond the namespaces. <see cref="NextChange"/> completes at any change;
/// <see cref="Snapshot"/> builds the apps the heartbeat would report, from what the watches hold, without an API call.
/// </summary>
public sealed class AppWatcher
{
    private const string HelmReleaseApiVersion = "helm.toolkit.fluxcd.io/v2";

    private readonly IKubernetesClient kubernetes;
    private readonly TimeProvider time;
    private readonly ILogger<AppWatcher> logger;
    private readonly WatchedObjects namespaces;
    private readonly Lock gate = new();
    private readonly Dictionary<string, AppNamespace> apps = new(StringComparer.Ordinal);
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource namespacesChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public AppWatcher(IKubernetesClient kubernetes, TimeProvider time, ILogger<AppWatcher> logger)
    {
        this.kubernetes = kubernetes;
        this.time = time;
        this.logger = logger;
        namespaces = new WatchedObjects(kubernetes, "v1", "Namespace", null, AgentLabels.ManagedSelector, () =>
        {
            Signal(ref namespacesChanged);
            Signal(ref changed);
        }, time, logger);
    }

    /// <summary>Completes at the next change of anything an app report is made of.</summary>
    public Task NextChange
    {
        get
        {
            lock (gate) return changed.Task;
        }
    }

    /// <summary>
    /// The managed namespaces and the apps in them as the watches hold them now; null until every watch has listed once
    /// (a report from a half-filled picture would tell the Portal an app has no release).
    /// </summary>
    public (IReadOnlyList<ManagedNamespace> Namespaces, IReadOnlyList<AppReport> Apps)? Snapshot()
    {
        if (!namespaces.Synced) return null;
        var managed = namespaces.Items();
        var reports = new List<AppReport>();
        lock (gate)
        {
            foreach (var ns in managed)
            {
                var app = ns["metadata"]?["labels"]?[AgentLabels.App]?.GetValue<string>();
                if (string.IsNullOrEmpty(app)) continue;
                if (!apps.TryGetValue(InventoryReader.Name(ns), out var watched) || !watched.Synced) return null;
                reports.AddRange(watched.Reports(app));
            }
        }
        return (managed.Select(InventoryReader.Namespace).ToList(), reports);
    }

    /// <summary>Watches until cancelled (the agent stopping or uninstalled), following app namespaces as they come and go.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var watchingNamespaces = namespaces.RunAsync(cancellationToken);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Task next;
                lock (gate) next = namespacesChanged.Task;
                Follow(cancellationToken);
                await next.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        List<AppNamespace> stopping;
        lock (gate)
        {
            stopping = [.. apps.Values];
            apps.Clear();
        }
        foreach (var watched in stopping) await watched.StopAsync();
        await watchingNamespaces;
    }

    /// <summary>Starts the watches of a new app namespace and stops those of one that went.</summary>
    private void Follow(CancellationToken cancellationToken)
    {
        var wanted = namespaces.Items()
            .Where(ns => !string.IsNullOrEmpty(ns["metadata"]?["labels"]?[AgentLabels.App]?.GetValue<string>()))
            .Select(InventoryReader.Name).ToHashSet(StringComparer.Ordinal);
        List<AppNamespace> gone;
        lock (gate)
        {
            gone = apps.Where(a => !wanted.Contains(a.Key)).Select(a => a.Value).ToList();
            foreach (var watched in gone) apps.Remove(watched.Name);
            foreach (var name in wanted.Where(n => !apps.ContainsKey(n)))
            {
                apps[name] = new AppNamespace(name, kubernetes, () => Signal(ref changed), time, logger, cancellationToken);
                logger.LogDebug("Watching the app namespace {Namespace}", name);
            }
        }
        foreach (var watched in gone) _ = watched.StopAsync();
        if (gone.Count > 0) Signal(ref changed);
    }

    private void Signal(ref TaskCompletionSource source)
    {
        TaskCompletionSource previous;
        lock (gate)
        {
            previous = source;
            source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }

    /// <summary>The watches of one app namespace: its HelmReleases and its workloads, stopped together when it goes.</summary>
    private sealed class AppNamespace
    {
        private readonly CancellationTokenSource stopping;
        private readonly WatchedObjects releases;
        private readonly WatchedObjects[] workloads;
        private readonly Task running;

        public AppNamespace(string name, IKubernetesClient kubernetes, Action changed, TimeProvider time, ILogger logger,
            CancellationToken cancellationToken)
        {
            Name = name;
            stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            releases = new WatchedObjects(kubernetes, HelmReleaseApiVersion, "HelmRelease", name, null, changed, time, logger);
            workloads = InventoryReader.WorkloadKinds.Select(kind => new WatchedObjects(kubernetes, "apps/v1", kind, name, null, changed, time,
                logger)).ToArray();
            running = Task.WhenAll(workloads.Prepend(releases).Select(w => w.RunAsync(stopping.Token)));
        }

        public string Name { get; }

        public bool Synced => releases.Synced && workloads.All(w => w.Synced);

        public IEnumerable<AppReport> Reports(string app)
        {
            var readiness = workloads.SelectMany(w => w.Items().Select(o => (w.Kind, o))).ToList();
            return releases.Items().Select(release => InventoryReader.App(Name, app, release, readiness));
        }

        public async Task StopAsync()
        {
            await stopping.CancelAsync();
            await running;
            stopping.Dispose();
        }
    }
}
