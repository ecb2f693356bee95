using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Kubernetes;

/// <summary>
/// The little of the Kubernetes API the agent (and the sandbox's OpenTofu simulator) needs, on plain
/// JSON objects. One implementation, <see cref="KubernetesClient"/>, over KubernetesClient.Aot; the
/// sandbox serves it a simulated API server over real HTTPS, never an in-process shortcut.
/// </summary>
public interface IKubernetesClient
{
    /// <summary>The server's gitVersion, e.g. v1.31.2.</summary>
    Task<string> GetVersionAsync(CancellationToken cancellationToken);

    /// <summary>Server-side apply with the client's field manager (forced: the caller owns what it applies).</summary>
    Task<JsonObject> ApplyAsync(JsonObject manifest, CancellationToken cancellationToken);

    /// <summary>An RFC 6902 JSON patch of one object (e.g. one container's image, guarded by a test of its name).</summary>
    Task<JsonObject> JsonPatchAsync(ObjectReference reference, JsonArray patch, CancellationToken cancellationToken);

    /// <summary>The object, or null when it does not exist.</summary>
    Task<JsonObject?> GetAsync(ObjectReference reference, CancellationToken cancellationToken);

    Task<IReadOnlyList<JsonObject>> ListAsync(string apiVersion, string kind, string? @namespace, string? labelSelector,
        CancellationToken cancellationToken);

    /// <summary>A list and the resourceVersion it was read at: where a watch of the same objects starts.</summary>
    Task<ObjectList> ListWithVersionAsync(string apiVersion, string kind, string? @namespace, string? labelSelector,
        CancellationToken cancellationToken);

    /// <summary>
    /// A watch of the objects a list with the same arguments returns, from <paramref name="resourceVersion"/> (with
    /// bookmarks): the events as the server streams them. The enumeration ends when the server ends the watch (its
    /// timeout, a restart): watch again from the last resourceVersion seen. A resourceVersion the server no longer
    /// keeps is a <see cref="KubernetesException"/> with status 410: list again, then watch.
    /// </summary>
    IAsyncEnumerable<WatchEvent> WatchAsync(string apiVersion, string kind, string? @namespace, string? labelSelector, string resourceVersion,
        TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Deletes the object; false when it was already gone (deleting is idempotent).</summary>
    Task<bool> DeleteAsync(ObjectReference reference, CancellationToken cancellationToken);

    /// <summary>The last <paramref name="tailLines"/> lines of a pod's container log (the pods/log subresource).</summary>
    Task<string> ReadLogAsync(string @namespace, string pod, string? container, int tailLines, CancellationToken cancellationToken);
}

/// <summary>Items of one kind and the resourceVersion of the list.</summary>
public sealed record ObjectList(IReadOnlyList<JsonObject> Items, string ResourceVersion);

/// <summary>What a watch event says: ADDED, MODIFIED, DELETED, or BOOKMARK (only a newer resourceVersion to resume from).</summary>
public enum WatchEventType
{
    Added,
    Modified,
    Deleted,
    Bookmark,
}

/// <summary>One watch event: its type and the object (for a bookmark, only its kind and metadata.resourceVersion).</summary>
public sealed record WatchEvent(WatchEventType Type, JsonObject Object)
{
    public string? ResourceVersion => Object["metadata"]?["resourceVersion"] is JsonValue value && value.TryGetValue<string>(out var version)
        ? version : null;
}

/// <summary>A Kubernetes API call that failed, with a message an operator can act on.</summary>
public sealed class KubernetesException(int statusCode, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The HTTP status, or 0 when the API could not be reached at all.</summary>
    public int StatusCode { get; } = statusCode;

    /// <summary>
    /// The kind the API server does not serve at all (a 404 for its path, not for one object): a custom kind whose
    /// CustomResourceDefinition is not installed, e.g. Flux's HelmRelease in a cluster without Flux. Null for other failures.
    /// </summary>
    public ResourceKind? NotServed { get; init; }
}
