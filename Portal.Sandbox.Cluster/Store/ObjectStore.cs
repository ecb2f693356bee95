using System.Globalization;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox.Cluster.Store;

/// <summary>
/// The simulated cluster's etcd: every object as JSON, saved to <c>objects.json</c> in the cluster's
/// directory after every change (write, then rename), so a restarted host finds the cluster as it was.
/// It assigns what the API server would (uid, creationTimestamp, resourceVersion, generation on spec
/// changes) and tells the controllers when anything changed. Like etcd behind the API server's watch
/// cache, it keeps a window of recent changes (<see cref="ChangesAfter"/>) that watches resume from; a
/// resourceVersion older than the window is gone (410), and a restarted cluster's window starts empty.
/// </summary>
public sealed class ObjectStore
{
    /// <summary>How many changes the watch window keeps (the API server's watch cache holds a bounded history too).</summary>
    public const int HistoryKept = 1000;

    private readonly string? file;
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private readonly Dictionary<string, JsonObject> objects;
    private readonly Queue<StoredChange> history = new();
    private long resourceVersion;
    /// <summary>The newest resourceVersion no longer in <see cref="history"/>: a watch from before it cannot resume.</summary>
    private long compactedThrough;
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="file">Where to persist; null keeps the cluster in memory (tests).</param>
    public ObjectStore(string? file, TimeProvider time)
    {
        this.file = file;
        this.time = time;
        objects = [];
        if (file is not null && File.Exists(file) && JsonNode.Parse(File.ReadAllText(file)) is JsonObject saved)
        {
            resourceVersion = Number(saved["resourceVersion"]) ?? 0;
            foreach (var (key, value) in saved["objects"] as JsonObject ?? [])
                if (value is JsonObject o) objects[key] = (JsonObject)o.DeepClone();
        }
        compactedThrough = resourceVersion;
    }

    /// <summary>The current resourceVersion (a list's metadata.resourceVersion).</summary>
    public long ResourceVersion
    {
        get
        {
            lock (gate) return resourceVersion;
        }
    }

    /// <summary>Completes at the next change: controllers wait on it instead of polling.</summary>
    public Task NextChange
    {
        get
        {
            lock (gate) return changed.Task;
        }
    }

    public static string Key(ResourceType type, string? ns, string name) => $"{type.ApiVersion}|{type.Kind}|{(type.Namespaced ? ns : "")}|{name}";

    public JsonObject? Get(ResourceType type, string? ns, string name)
    {
        lock (gate) return objects.TryGetValue(Key(type, ns, name), out var o) ? (JsonObject)o.DeepClone() : null;
    }

    /// <summary>Objects of a type, in one namespace or all (null), matching an equality label selector ("a=b,c", "a!=b").</summary>
    public List<JsonObject> List(ResourceType type, string? ns, string? labelSelector = null)
    {
        var prefix = type.Namespaced && ns is not null ? $"{type.ApiVersion}|{type.Kind}|{ns}|" : $"{type.ApiVersion}|{type.Kind}|";
        lock (gate)
        {
            return objects.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal))
                .Select(e => (JsonObject)e.Value.DeepClone())
                .Where(o => LabelSelector.Matches(o["metadata"]?["labels"] as JsonObject, labelSelector))
                .OrderBy(o => o["metadata"]?["namespace"]?.GetValue<string>(), StringComparer.Ordinal)
                .ThenBy(o => o["metadata"]?["name"]?.GetValue<string>(), StringComparer.Ordinal)
                .ToList();
        }
    }

    /// <summary>
    /// A list and the resourceVersion it is complete through, read together, as the API server's list is one consistent
    /// snapshot: a watch from that version then neither misses a change nor repeats one the list already shows (read apart,
    /// a write in between would come again as an ADDED, or a deletion as a DELETED of an object the client never saw).
    /// </summary>
    public (List<JsonObject> Items, long ResourceVersion) Snapshot(ResourceType type, string? ns, string? labelSelector = null)
    {
        lock (gate) return (List(type, ns, labelSelector), resourceVersion);
    }

    /// <summary>
    /// Creates or changes one object: <paramref name="change"/> gets the stored object (null when new)
    /// and returns the new one. Returns the stored result and whether it was created. Creating a namespaced object in a
    /// namespace that is not stored throws <see cref="NamespaceGoneException"/> (the API server's NamespaceLifecycle
    /// admission), decided under the same lock as the write, so nothing lands in a namespace deleted a moment before.
    /// </summary>
    public (JsonObject Stored, bool Created) Write(ResourceType type, string? ns, string name, Func<JsonObject?, JsonObject> change)
    {
        lock (gate)
        {
            var key = Key(type, ns, name);
            objects.TryGetValue(key, out var existing);
            if (existing is null && type.Namespaced && !objects.ContainsKey(Key(ResourceTypes.Namespace, null, ns ?? "")))
                throw new NamespaceGoneException(ns ?? "");
            var updated = change(existing is null ? null : (JsonObject)existing.DeepClone());
            var metadata = updated["metadata"] as JsonObject ?? [];
            updated["metadata"] = metadata;
            updated["apiVersion"] = type.ApiVersion;
            updated["kind"] = type.Kind;
            metadata["name"] = name;
            if (type.Namespaced) metadata["namespace"] = ns; else metadata.Remove("namespace");
            if (existing is null)
            {
                metadata["uid"] = Guid.NewGuid().ToString();
                metadata["creationTimestamp"] = Timestamp(time.GetUtcNow());
                if (updated.ContainsKey("spec")) metadata["generation"] = 1L;
            }
            else
            {
                metadata["uid"] = existing["metadata"]?["uid"]?.DeepClone();
                metadata["creationTimestamp"] = existing["metadata"]?["creationTimestamp"]?.DeepClone();
                var generation = Number(existing["metadata"]?["generation"]) ?? 0;
                var specChanged = !JsonNode.DeepEquals(existing["spec"], updated["spec"]);
                if (updated.ContainsKey("spec")) metadata["generation"] = specChanged ? generation + 1 : Math.Max(generation, 1);
            }
            metadata["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);
            objects[key] = updated;
            Record(type, existing is null ? ChangeKind.Added : ChangeKind.Modified, updated, existing);
            SaveAndSignal();
            return ((JsonObject)updated.DeepClone(), existing is null);
        }
    }

    /// <summary>
    /// Changes an object only while it exists, as a controller's status update does: a deletion that landed after the
    /// controller read the object wins, and nothing is written (null). Through <see cref="Write"/> the object would be
    /// created again, with a new uid, so a deleted pod, Deployment or HelmRelease would come back.
    /// </summary>
    public JsonObject? Update(ResourceType type, string? ns, string name, Func<JsonObject, JsonObject> change)
    {
        lock (gate)
        {
            if (!objects.ContainsKey(Key(type, ns, name))) return null;
            return Write(type, ns, name, stored => change(stored!)).Stored;
        }
    }

    /// <summary>
    /// Stores <paramref name="desired"/> only while the stored object is still the one its writer read (the resourceVersion it
    /// had; null: absent), as the API server's optimistic concurrency does; null, and nothing written, when another write
    /// landed in between. The writer computes its change again from the object as it is now.
    /// </summary>
    public (JsonObject Stored, bool Created)? WriteIfUnchanged(ResourceType type, string? ns, string name, string? readVersion,
        JsonObject desired)
    {
        lock (gate)
        {
            objects.TryGetValue(Key(type, ns, name), out var current);
            if (Text(current?["metadata"]?["resourceVersion"]) != readVersion) return null;
            return Write(type, ns, name, _ => desired);
        }
    }

    /// <summary>
    /// Deletes an object (for a namespace, everything in it, as the namespace controller does; for a CustomResourceDefinition,
    /// every object of its kind, as the apiextensions cleanup finalizer does before the kind stops being served), then collects
    /// the garbage its removal leaves. False when it did not exist.
    /// </summary>
    public bool Delete(ResourceType type, string? ns, string name)
    {
        lock (gate)
        {
            if (!objects.Remove(Key(type, ns, name), out var removed)) return false;
            var gone = new List<(ResourceType? Type, JsonObject Object)>();
            if (type == ResourceTypes.Namespace)
                foreach (var inside in objects.Keys.Where(k => k.Split('|')[2] == name).ToList())
                    if (objects.Remove(inside, out var o)) gone.Add((ResourceTypes.ByKind(Text(o["apiVersion"]) ?? "", Text(o["kind"]) ?? ""), o));
            if (type == ResourceTypes.CustomResourceDefinition)
                foreach (var instance in objects.Where(o => CustomResources.IsInstance(removed, o.Value)).Select(o => o.Key).ToList())
                    if (objects.Remove(instance, out var o)) gone.Add((ResourceTypes.ByKind(Text(o["apiVersion"]) ?? "", Text(o["kind"]) ?? ""), o));
            gone.Add((type, removed));
            CollectGarbage(gone);
            // Each deletion is a change of its own, as the API server's are: a namespace's contents, the object, what it owned.
            foreach (var (goneType, o) in gone)
            {
                o["metadata"]!["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);
                if (goneType is not null) Record(goneType, ChangeKind.Deleted, o, o);
            }
            SaveAndSignal();
            return true;
        }
    }

    /// <summary>
    /// The changes of one resource type (in one namespace, or all: null) after <paramref name="afterVersion"/>, oldest
    /// first, and the store's version they are complete through; null changes when that version is older than the window
    /// kept (the watch must list again: 410 Gone).
    /// </summary>
    public (IReadOnlyList<StoredChange>? Changes, long Through) ChangesAfter(ResourceType type, string? ns, long afterVersion)
    {
        lock (gate)
        {
            if (afterVersion < compactedThrough) return (null, resourceVersion);
            return (history.Where(c => c.ResourceVersion > afterVersion && c.Type == type && (ns is null || !type.Namespaced || c.Namespace == ns))
                .ToList(), resourceVersion);
        }
    }

    /// <summary>The oldest resourceVersion a watch can still resume from (for the 410's message).</summary>
    public long OldestWatchable
    {
        get
        {
            lock (gate) return compactedThrough;
        }
    }

    /// <summary>Forgets the whole watch window, as an etcd compaction does: every watch resuming from before now gets 410 Gone.</summary>
    public void Compact()
    {
        lock (gate)
        {
            history.Clear();
            compactedThrough = resourceVersion;
        }
    }

    /// <summary>Called under the gate, right after <see cref="resourceVersion"/> was taken for <paramref name="current"/>.</summary>
    private void Record(ResourceType type, ChangeKind kind, JsonObject current, JsonObject? previous)
    {
        history.Enqueue(new StoredChange(resourceVersion, type, Text(current["metadata"]?["namespace"]), kind, (JsonObject)current.DeepClone(),
            previous?["metadata"]?["labels"]?.DeepClone() as JsonObject));
        while (history.Count > HistoryKept) compactedThrough = history.Dequeue().ResourceVersion;
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>
    /// The garbage collector's rule: an object whose <c>ownerReferences</c> all name owners (by uid) that no longer exist is
    /// deleted, and so on down the chain. A real cluster does this in the background after the owner is gone; here it happens
    /// in the same change, which is the state the real one converges to. Pods are left to the Deployment controller, which
    /// deletes them gracefully so the kubelet stops their processes first.
    /// </summary>
    private void CollectGarbage(List<(ResourceType? Type, JsonObject Object)> gone)
    {
        while (true)
        {
            var alive = objects.Values.Select(o => o["metadata"]?["uid"]?.GetValue<string>()).OfType<string>().ToHashSet(StringComparer.Ordinal);
            var orphans = objects.Where(o => o.Value["kind"]?.GetValue<string>() != "Pod"
                    && o.Value["metadata"]?["ownerReferences"] is JsonArray { Count: > 0 } owners
                    && owners.All(owner => owner?["uid"]?.GetValue<string>() is not { } uid || !alive.Contains(uid)))
                .Select(o => o.Key).ToList();
            if (orphans.Count == 0) return;
            foreach (var orphan in orphans)
                if (objects.Remove(orphan, out var o)) gone.Add((ResourceTypes.ByKind(Text(o["apiVersion"]) ?? "", Text(o["kind"]) ?? ""), o));
        }
    }

    /// <summary>A JSON number as a long, whether it was parsed or built in code (JsonValue keeps the type it was made with).</summary>
    public static long? Number(JsonNode? node) => node is JsonValue value
        ? value.TryGetValue<long>(out var l) ? l : value.TryGetValue<int>(out var i) ? i : value.TryGetValue<double>(out var d) ? (long)d : null
        : null;

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private void SaveAndSignal()
    {
        if (file is not null)
        {
            var document = new JsonObject
            {
                ["resourceVersion"] = resourceVersion,
                ["objects"] = new JsonObject(objects.OrderBy(o => o.Key, StringComparer.Ordinal)
                    .Select(o => KeyValuePair.Create(o.Key, (JsonNode?)o.Value.DeepClone()))),
            };
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file + ".tmp", document.ToJsonString());
            File.Move(file + ".tmp", file, overwrite: true);
        }
        var previous = changed;
        changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }
}

/// <summary>A namespaced object could not be created: its namespace is not stored (never was, or was just deleted).</summary>
public sealed class NamespaceGoneException(string ns) : InvalidOperationException($"namespaces \"{ns}\" not found")
{
    public string Namespace { get; } = ns;
}

/// <summary>What happened to an object in a change (a watch event's type).</summary>
public enum ChangeKind
{
    Added,
    Modified,
    Deleted,
}

/// <summary>
/// One change in the watch window: the object as it was after the change (for a deletion, as it was last, with the
/// deletion's resourceVersion), and the labels it had before, so a watch with a label selector can tell an object
/// that stopped matching (a DELETED for that watch) from one that started to (ADDED).
/// </summary>
public sealed record StoredChange(long ResourceVersion, ResourceType Type, string? Namespace, ChangeKind Kind, JsonObject Object,
    JsonObject? PreviousLabels);

/// <summary>Equality-based label selectors, the forms the agent and the Deployment controller use.</summary>
public static class LabelSelector
{
    public static bool Matches(JsonObject? labels, string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector)) return true;
        foreach (var term in selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var notEquals = term.IndexOf("!=", StringComparison.Ordinal);
            if (notEquals > 0)
            {
                if (labels?[term[..notEquals]]?.GetValue<string>() == term[(notEquals + 2)..]) return false;
                continue;
            }
            var equals = term.IndexOf('=');
            var key = equals < 0 ? term : term[..equals];
            var expected = equals < 0 ? null : term[(equals + 1)..].TrimStart('=');
            var value = labels?[key]?.GetValue<string>();
            if (value is null || (expected is not null && value != expected)) return false;
        }
        return true;
    }

    /// <summary>matchLabels of a Deployment's selector, as "a=b,c=d".</summary>
    public static string FromMatchLabels(JsonObject? matchLabels) =>
        string.Join(",", (matchLabels ?? []).Select(l => $"{l.Key}={l.Value?.GetValue<string>()}"));
}
