using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Sandbox.Cluster.Store;
using KubernetesClientConfiguration = k8s.KubernetesClientConfiguration;

namespace Cogrion.Portal.Tests.Agents.Kubernetes;

/// <summary>
/// Watches as the agent makes them (its <see cref="KubernetesClient"/>, with its service account's token, under the install
/// template's RBAC) against the simulated API server over HTTPS: the event stream, resuming from a resourceVersion,
/// label selectors, bookmarks, the server ending a watch, 410 Gone after a compaction, and RBAC's watch verb.
/// </summary>
public sealed class SimulatedWatchTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private AgentProcess cluster = null!;
    private KubernetesClient agent = null!;

    public async Task InitializeAsync()
    {
        cluster = await AgentProcess.StartClusterAsync(new Dictionary<string, string>());
        await cluster.InstallAsync(Guid.NewGuid(), Guid.NewGuid(), "https://portal.test", "cgr_bt_test-token-of-sufficient-length-000000");
        var authority = new X509Certificate2Collection();
        authority.ImportFromPem(cluster.Cluster.Certificates.AuthorityPem);
        agent = new KubernetesClient(new KubernetesClientConfiguration
        {
            Host = cluster.Cluster.Url,
            SslCaCerts = authority,
            AccessToken = cluster.Cluster.CreateToken(AgentInstall.Namespace, AgentInstall.ServiceAccount),
        });
    }

    public async Task DisposeAsync()
    {
        agent.Dispose();
        await cluster.DisposeAsync();
    }

    /// <summary>Applies as the cluster's admin; an app namespace gets the agent's workload role bound in it, as the agent's own command
    /// does.</summary>
    private async Task ApplyAsync(JsonObject manifest)
    {
        await cluster.Admin.ApplyAsync(manifest, CancellationToken.None);
        if (manifest["kind"]!.GetValue<string>() != "Namespace" || manifest["metadata"]?["labels"]?[AgentLabels.App] is null) return;
        await cluster.Admin.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1",
            ["kind"] = "RoleBinding",
            ["metadata"] = new JsonObject { ["name"] = AgentInstall.WorkloadRoleBinding, ["namespace"] = manifest["metadata"]!["name"]!.DeepClone() },
            ["roleRef"] = new JsonObject
            {
                ["apiGroup"] = "rbac.authorization.k8s.io",
                ["kind"] = "ClusterRole",
                ["name"] = "cogrion-agent-workload",
            },
            ["subjects"] = new JsonArray(new JsonObject
            {
                ["kind"] = "ServiceAccount",
                ["name"] = AgentInstall.ServiceAccount,
                ["namespace"] = AgentInstall.Namespace,
            }),
        }, CancellationToken.None);
    }

    private static JsonObject Namespace(string name, string? app = null) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Namespace",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = app is null
                ? new JsonObject { [AgentLabels.ManagedBy] = AgentLabels.ManagedByValue }
                : new JsonObject { [AgentLabels.ManagedBy] = AgentLabels.ManagedByValue, [AgentLabels.App] = app },
        },
    };

    private static JsonObject Deployment(string ns, string name, int replicas) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        // Left alone by the simulated Deployment controller: the only changes are the test's own.
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["annotations"] = new JsonObject { [Cogrion.Sandbox.Cluster.Runtime.HelmController.SimulatedAnnotation] = "test" },
        },
        ["spec"] = new JsonObject { ["replicas"] = replicas, ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } } },
    };

    /// <summary>A watch running in the background, its events in a channel, and how it ended (normally, or with an error).</summary>
    private sealed class RunningWatch : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Channel<WatchEvent> events = Channel.CreateUnbounded<WatchEvent>();

        public RunningWatch(KubernetesClient client, string apiVersion, string kind, string? ns, string? selector, string version)
        {
            Ended = Task.Run(async () =>
            {
                try
                {
                    await foreach (var e in client.WatchAsync(apiVersion, kind, ns, selector, version, TimeSpan.FromMinutes(5), stop.Token))
                        await events.Writer.WriteAsync(e);
                }
                finally
                {
                    events.Writer.TryComplete();
                }
            });
        }

        public Task Ended { get; }

        /// <summary>The next event other than a bookmark (unless bookmarks are wanted).</summary>
        public async Task<WatchEvent> NextAsync(bool bookmarks = false)
        {
            using var deadline = new CancellationTokenSource(Deadline);
            while (true)
            {
                var e = await events.Reader.ReadAsync(deadline.Token);
                if (bookmarks || e.Type != WatchEventType.Bookmark) return e;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try { await Ended; } catch (OperationCanceledException) { }
        }
    }

    [Fact]
    public async Task A_watch_from_a_lists_version_streams_each_change_after_it_with_its_resource_version()
    {
        await ApplyAsync(Namespace("lake", "airflow"));
        await ApplyAsync(Deployment("lake", "web", 1));
        var list = await agent.ListWithVersionAsync("apps/v1", "Deployment", "lake", null, CancellationToken.None);
        Assert.Single(list.Items);
        Assert.NotEmpty(list.ResourceVersion);

        await using var watch = new RunningWatch(agent, "apps/v1", "Deployment", "lake", null, list.ResourceVersion);
        await ApplyAsync(Deployment("lake", "web", 2));
        await ApplyAsync(Deployment("lake", "worker", 1));
        await cluster.Admin.DeleteAsync(new ObjectReference("apps/v1", "Deployment", "web", "lake"), CancellationToken.None);

        var modified = await watch.NextAsync();
        Assert.Equal(WatchEventType.Modified, modified.Type);
        Assert.Equal(2, modified.Object["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal("Deployment", modified.Object["kind"]!.GetValue<string>());
        var added = await watch.NextAsync();
        Assert.Equal((WatchEventType.Added, "worker"), (added.Type, added.Object["metadata"]!["name"]!.GetValue<string>()));
        var deleted = await watch.NextAsync();
        Assert.Equal((WatchEventType.Deleted, "web"), (deleted.Type, deleted.Object["metadata"]!["name"]!.GetValue<string>()));
        Assert.True(long.Parse(deleted.ResourceVersion!) > long.Parse(added.ResourceVersion!));

        // Resuming from the version of the first event replays exactly what came after it.
        await using var resumed = new RunningWatch(agent, "apps/v1", "Deployment", "lake", null, modified.ResourceVersion!);
        Assert.Equal(WatchEventType.Added, (await resumed.NextAsync()).Type);
        Assert.Equal(WatchEventType.Deleted, (await resumed.NextAsync()).Type);
    }

    [Fact]
    public async Task A_watch_without_a_version_starts_with_the_current_objects_and_a_label_selector_adds_and_removes_objects()
    {
        await ApplyAsync(Namespace("lake", "airflow"));
        await using var watch = new RunningWatch(agent, "v1", "Namespace", null, AgentLabels.ManagedSelector, "");
        var initial = await watch.NextAsync();
        Assert.Equal(WatchEventType.Added, initial.Type);

        // A namespace that starts matching the selector is ADDED; one that stops matching is DELETED for this watch.
        await cluster.Admin.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["metadata"] = new JsonObject { ["name"] = "other" },
        }, CancellationToken.None);
        await ApplyAsync(Namespace("other"));
        var other = await watch.NextAsync();
        Assert.Equal((WatchEventType.Added, "other"), (other.Type, other.Object["metadata"]!["name"]!.GetValue<string>()));
        cluster.Cluster.Store.Write(ResourceTypes.Namespace, null, "other", stored =>
        {
            stored!["metadata"]!.AsObject().Remove("labels");
            return stored;
        });
        var left = await watch.NextAsync();
        Assert.Equal((WatchEventType.Deleted, "other"), (left.Type, left.Object["metadata"]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_watch_the_server_ends_ends_the_enumeration_and_an_expired_version_is_410_gone()
    {
        await ApplyAsync(Namespace("lake", "airflow"));
        var list = await agent.ListWithVersionAsync("apps/v1", "Deployment", "lake", null, CancellationToken.None);
        await using var watch = new RunningWatch(agent, "apps/v1", "Deployment", "lake", null, list.ResourceVersion);
        await ApplyAsync(Deployment("lake", "web", 1));
        await watch.NextAsync();

        cluster.Cluster.Api.CloseWatches();
        await watch.Ended.WaitAsync(Deadline); // Ends without an error: the client watches again from its last version.
        // It was served over HTTP/2, as the client's other calls: watches are streams on its connection, not connections of their own.
        Assert.Contains(cluster.Cluster.Api.Audit, a => a.Verb == "watch" && a.Code == 200 && a.Protocol == "HTTP/2");

        cluster.Cluster.Store.Compact();
        var gone = await Assert.ThrowsAsync<KubernetesException>(async () =>
        {
            await foreach (var _ in agent.WatchAsync("apps/v1", "Deployment", "lake", null, list.ResourceVersion, TimeSpan.FromMinutes(1),
                CancellationToken.None))
            {
            }
        });
        Assert.Equal(410, gone.StatusCode);
        Assert.Contains("too old resource version", gone.Message);
    }

    [Fact]
    public async Task A_watch_that_allowed_bookmarks_gets_them_with_a_newer_version()
    {
        cluster.Cluster.Api.BookmarkInterval = TimeSpan.FromMilliseconds(200);
        await ApplyAsync(Namespace("lake", "airflow"));
        var list = await agent.ListWithVersionAsync("apps/v1", "Deployment", "lake", null, CancellationToken.None);
        await using var watch = new RunningWatch(agent, "apps/v1", "Deployment", "lake", null, list.ResourceVersion);
        // A change elsewhere moves the cluster's version on; the bookmark tells this watch it may resume from there.
        await ApplyAsync(Namespace("elsewhere"));

        var bookmark = await Eventually.ValueAsync(() => watch.NextAsync(bookmarks: true),
            e => e.Type == WatchEventType.Bookmark && long.Parse(e.ResourceVersion!) > long.Parse(list.ResourceVersion),
            "a bookmark past the change elsewhere", Deadline);
        Assert.Equal("Deployment", bookmark.Object["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rbac_checks_the_watch_verb()
    {
        // The agent may watch its managed namespaces (the install grants get, list, watch) but not, say, secrets cluster-wide.
        await using var namespaces = new RunningWatch(agent, "v1", "Namespace", null, AgentLabels.ManagedSelector, "");
        var refused = await Assert.ThrowsAsync<KubernetesException>(async () =>
        {
            await foreach (var _ in agent.WatchAsync("v1", "Secret", null, null, "", TimeSpan.FromMinutes(1), CancellationToken.None))
            {
            }
        });
        Assert.Equal(403, refused.StatusCode);
        Assert.Contains("cannot watch resource \"secrets\"", refused.Message);
        Assert.Contains(cluster.Cluster.Api.Audit, a => a.Verb == "watch" && a.Path.StartsWith("/api/v1/secrets?", StringComparison.Ordinal)
            && a.Code == 403);
        Assert.False(namespaces.Ended.IsCompleted);
    }
}
