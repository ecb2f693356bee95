using System.Text.Json.Nodes;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Kubernetes;

/// <summary>
/// The objects of one kind (in one namespace, or cluster-wide, with a label selector), kept current by a list and then a
/// watch from the list's resourceVersion, as client-go's reflector keeps an informer's cache: a watch the server ends
/// (its timeout, a restart) is resumed from the last resourceVersion seen, bookmarks included; 410 Gone (that version
/// left the server's window) lists again; any other failure waits a growing, jittered delay, then lists again. Each
/// change calls <c>changed</c>. Only the objects are kept, as the API sent them: a handful per app namespace.
/// </summary>
public sealed class WatchedObjects(IKubernetesClient kubernetes, string apiVersion, string kind, string? @namespace, string? labelSelector,
    Action changed, TimeProvider time, ILogger logger)
{
    /// <summary>How long one watch request asks to stay open; client-go picks 5–10 minutes at random, so do we.</summary>
    private static readonly TimeSpan MinimumWatchTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaximumBackoff = TimeSpan.FromSeconds(30);

    private readonly Lock gate = new();
    private Dictionary<string, JsonObject> objects = new(StringComparer.Ordinal);
    private bool synced;

    public string Kind => kind;

    /// <summary>True once the first list arrived: until then, what this holds says nothing about the cluster.</summary>
    public bool Synced
    {
        get
        {
            lock (gate) return synced;
        }
    }

    /// <summary>The objects now, by name.</summary>
    public IReadOnlyList<JsonObject> Items()
    {
        lock (gate) return objects.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => o.Value).ToList();
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string? version = null;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (version is null)
                {
                    var list = await kubernetes.ListWithVersionAsync(apiVersion, kind, @namespace, labelSelector, cancellationToken);
                    Replace(list.Items);
                    version = list.ResourceVersion;
                }
                var timeout = MinimumWatchTimeout * (1 + Random.Shared.NextDouble());
                var started = time.GetTimestamp();
                var events = 0;
                await foreach (var change in kubernetes.WatchAsync(apiVersion, kind, @namespace, labelSelector, version, timeout, cancellationToken))
                {
                    events++;
                    failures = 0;
                    version = change.ResourceVersion ?? version;
                    if (change.Type != WatchEventType.Bookmark) Apply(change);
                }
                // The server ended the watch: resume from the last version seen, nothing missed. One that ends at once, empty,
                // again and again (a proxy cutting it) is a failure, or this would spin.
                if (events == 0 && time.GetElapsedTime(started) < TimeSpan.FromSeconds(1)) await DelayAsync(Backoff(++failures), cancellationToken);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return; // Stopping: whatever the cut stream threw.
            }
            catch (KubernetesException ex) when (ex.StatusCode == 410)
            {
                logger.LogInformation("The watch of {Kind} in {Namespace} is too old for the API server ({Problem}); listing again", kind,
                    @namespace ?? "all namespaces", ex.Message);
                version = null;
                // A fresh list's version is never too old; twice in a row means something else is wrong: slow down.
                if (++failures > 1) await DelayAsync(Backoff(failures), cancellationToken);
            }
            catch (KubernetesException ex) when (ex.NotServed is not null)
            {
                // The kind is not served (Flux's CRDs not installed, or removed with their objects): it has no objects, which is a
                // complete picture, not a failed one. Look again now and then, for the CRD being installed.
                failures++;
                version = null;
                if (!Empty()) Replace([]);
                var delay = Backoff(failures);
                logger.LogInformation("The API server does not serve {Kind} ({Problem}); looking again in {Delay:0.0} s", kind, ex.Message,
                    delay.TotalSeconds);
                await DelayAsync(delay, cancellationToken);
            }
            catch (Exception ex)
            {
                // Anything at all (the API, a malformed line, the token file unreadable): a watch that died silently would
                // leave the app's status to the heartbeat alone, so every failure waits and lists again.
                failures++;
                version = null;
                var delay = Backoff(failures);
                // Once is routine (a new app namespace is watched a moment before its RoleBinding grants the agent its rights).
                logger.Log(failures == 1 ? LogLevel.Information : LogLevel.Warning,
                    "Watching {Kind} in {Namespace} failed ({Failures} in a row): {Problem}. Listing again in {Delay:0.0} s", kind,
                    @namespace ?? "all namespaces", failures, ex.Message, delay.TotalSeconds);
                await DelayAsync(delay, cancellationToken);
            }
        }
    }

    /// <summary>Waits, or returns early when stopping (the loop then ends).</summary>
    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>0.25 s doubling to 30 s, each between half and all of it, so a fleet cut off at once does not come back at once.</summary>
    private static TimeSpan Backoff(int failures)
    {
        var ceiling = TimeSpan.FromMilliseconds(Math.Min(MaximumBackoff.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(failures - 1, 10))));
        return ceiling * (0.5 + Random.Shared.NextDouble() / 2);
    }

    /// <summary>Synced and holding nothing: an empty list changes nothing, so it need not wake the reports.</summary>
    private bool Empty()
    {
        lock (gate) return synced && objects.Count == 0;
    }

    private void Replace(IReadOnlyList<JsonObject> items)
    {
        lock (gate)
        {
            objects = items.ToDictionary(InventoryReader.Name, StringComparer.Ordinal);
            synced = true;
        }
        changed();
    }

    private void Apply(WatchEvent change)
    {
        var name = InventoryReader.Name(change.Object);
        lock (gate)
        {
            if (change.Type == WatchEventType.Deleted) objects.Remove(name);
            else objects[name] = change.Object;
        }
        changed();
    }
}
