using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Kubernetes;

/// <summary>
/// The little of the Kubernetes API the agent needs. One real implementation over HTTP
/// (<see cref="KubernetesClient"/>) and one simulator (<see cref="SimulatedCluster"/>) for the sandbox.
/// </summary>
public interface IKubernetesClient
{
    /// <summary>The server's gitVersion, e.g. v1.31.2.</summary>
    Task<string> GetVersionAsync(CancellationToken cancellationToken);

    /// <summary>Server-side apply with the agent's field manager (forced: the agent owns what it applies).</summary>
    Task<JsonObject> ApplyAsync(JsonObject manifest, CancellationToken cancellationToken);

    /// <summary>The object, or null when it does not exist.</summary>
    Task<JsonObject?> GetAsync(ObjectReference reference, CancellationToken cancellationToken);

    Task<IReadOnlyList<JsonObject>> ListAsync(string apiVersion, string kind, string? @namespace, string? labelSelector, CancellationToken cancellationToken);

    /// <summary>Deletes the object; false when it was already gone (deleting is idempotent).</summary>
    Task<bool> DeleteAsync(ObjectReference reference, CancellationToken cancellationToken);
}

/// <summary>A Kubernetes API call that failed, with a message an operator can act on.</summary>
public sealed class KubernetesException(int statusCode, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The HTTP status, or 0 when the API could not be reached at all.</summary>
    public int StatusCode { get; } = statusCode;
}

/// <summary>Labels the agent puts on what it creates, so it can find (and uninstall) exactly that.</summary>
public static class AgentLabels
{
    public const string ManagedBy = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "cogrion-agent";
    public const string App = "cogrion.dev/app";
    public const string FieldManager = "cogrion-agent";
    public const string ManagedSelector = ManagedBy + "=" + ManagedByValue;
}
