using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Cogrion.Agent.Protocol;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Cogrion.Kubernetes;

/// <summary>
/// <see cref="IKubernetesClient"/> on KubernetesClient.Aot, the official client's trimming-safe build
/// (the full KubernetesClient crashes at start under Native AOT). Every kind goes through the library's
/// generic operations (the "custom objects" ones, which address the core group under /api/v1 as the
/// library's own GenericClient does), read and written as plain JSON: the API's answer is never
/// squeezed through a typed model, so a field the model does not know is not lost, and the agent
/// compiles in none of the library's ~870 models (ADR 0125). Writes are server-side apply
/// (<c>application/apply-patch+yaml</c>; a JSON body is valid YAML) with a field manager and force=true.
/// </summary>
public sealed class KubernetesClient : IKubernetesClient, IDisposable
{
    private const string Background = "Background";
    private readonly k8s.Kubernetes client;
    private readonly string fieldManager;
    private readonly Version httpVersion;
    private readonly IReadOnlyList<ResourceKind> moreKinds;

    /// <param name="impersonate">
    /// A user every request acts as (Kubernetes' <c>Impersonate-User</c> header), for a narrower identity than the pod's own: the
    /// API server first checks that the pod's identity may <c>impersonate</c> it, then authorizes each request as that user only.
    /// </param>
    /// <param name="moreKinds">
    /// Kinds beyond the agent's (<see cref="ResourceKinds"/>) that this caller addresses: the sandbox installs Flux's
    /// CustomResourceDefinitions as OpenTofu's helm_release would, a kind the agent has no RBAC for and must not know.
    /// </param>
    public KubernetesClient(KubernetesClientConfiguration configuration, string fieldManager = AgentLabels.FieldManager, string? impersonate = null,
        IEnumerable<ResourceKind>? moreKinds = null)
    {
        this.moreKinds = [.. moreKinds ?? []];
        UseWireJson(configuration);
        client = impersonate is null ? new k8s.Kubernetes(configuration) : new k8s.Kubernetes(configuration, new ImpersonationHandler(impersonate));
        this.fieldManager = fieldManager;
        // The library asks for HTTP/2 on each request unless told not to; watches do the same, so they share its connection.
        httpVersion = configuration.DisableHttp2 ? HttpVersion.Version11 : HttpVersion.Version20;
        Server = configuration.Host;
    }

    private sealed class ImpersonationHandler(string user) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove("Impersonate-User");
            request.Headers.Add("Impersonate-User", user);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>The API server's address, for messages.</summary>
    public string Server { get; }

    public async Task<string> GetVersionAsync(CancellationToken cancellationToken)
    {
        var version = await CallAsync(() => client.Version.GetCodeAsync(cancellationToken), "read the server version");
        return version.GitVersion ?? "unknown";
    }

    public async Task<JsonObject> ApplyAsync(JsonObject manifest, CancellationToken cancellationToken)
    {
        var (kind, name, ns) = Describe(manifest, Kind);
        var body = new V1Patch(manifest.ToJsonString(), V1Patch.PatchType.ApplyPatch);
        return await CallAsync(() => Patch(kind, body, name, ns, cancellationToken), $"apply {kind.Kind} {Qualified(name, ns)}", kind);
    }

    public async Task<JsonObject> JsonPatchAsync(ObjectReference reference, JsonArray patch, CancellationToken cancellationToken)
    {
        var kind = Kind(reference.ApiVersion, reference.Kind);
        var body = new V1Patch(patch.ToJsonString(), V1Patch.PatchType.JsonPatch);
        return await CallAsync(() => Patch(kind, body, reference.Name, reference.Namespace, cancellationToken),
            $"patch {kind.Kind} {Qualified(reference.Name, reference.Namespace)}", kind);
    }

    public async Task<JsonObject?> GetAsync(ObjectReference reference, CancellationToken cancellationToken)
    {
        var kind = Kind(reference.ApiVersion, reference.Kind);
        try
        {
            return await CallAsync(() => kind.Namespaced
                    ? client.CustomObjects.GetNamespacedCustomObjectAsync<JsonObject>(kind.Group, kind.Version, reference.Namespace!, kind.Plural,
                        reference.Name, cancellationToken)
                    : client.CustomObjects.GetClusterCustomObjectAsync<JsonObject>(kind.Group, kind.Version, kind.Plural, reference.Name,
                        cancellationToken),
                $"read {kind.Kind} {Qualified(reference.Name, reference.Namespace)}", kind);
        }
        catch (KubernetesException ex) when (ex.StatusCode == 404 && ex.NotServed is null)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<JsonObject>> ListAsync(string apiVersion, string kind, string? @namespace, string? labelSelector,
        CancellationToken cancellationToken) =>
        (await ListWithVersionAsync(apiVersion, kind, @namespace, labelSelector, cancellationToken)).Items;

    public async Task<ObjectList> ListWithVersionAsync(string apiVersion, string kind, string? @namespace, string? labelSelector,
        CancellationToken cancellationToken)
    {
        var resource = Kind(apiVersion, kind);
        // A cluster-scoped kind, or a namespaced one across all namespaces, is listed at the group's root.
        var list = await CallAsync(() => resource.Namespaced && @namespace is not null
                ? client.CustomObjects.ListNamespacedCustomObjectAsync<JsonObject>(resource.Group, resource.Version, @namespace, resource.Plural,
                    labelSelector: labelSelector, cancellationToken: cancellationToken)
                : client.CustomObjects.ListClusterCustomObjectAsync<JsonObject>(resource.Group, resource.Version, resource.Plural,
                    labelSelector: labelSelector, cancellationToken: cancellationToken),
            $"list {resource.Plural}", resource);
        var items = list["items"] is JsonArray array ? array.OfType<JsonObject>().Select(Complete(resource)).ToList() : [];
        return new ObjectList(items, Text(list["metadata"]?["resourceVersion"]) ?? "");
    }

    /// <summary>
    /// KubernetesClient.Aot has no watch helper (the full client's Watcher is not trimming-safe), so the watch is the plain
    /// HTTP request the API defines, sent through the library's own HttpClient (the cluster CA, HTTP/2 when the server
    /// offers it) with its credentials (the service-account token, re-read as it rotates), and read a line at a time.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(string apiVersion, string kind, string? @namespace, string? labelSelector,
        string resourceVersion, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var resource = Kind(apiVersion, kind);
        var what = $"watch {resource.Plural}{(resource.Namespaced && @namespace is not null ? $" in {@namespace}" : "")}";
        var query = $"?watch=true&allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(resourceVersion)}" +
            $"&timeoutSeconds={(int)Math.Max(1, timeout.TotalSeconds)}" +
            (string.IsNullOrEmpty(labelSelector) ? "" : $"&labelSelector={Uri.EscapeDataString(labelSelector)}");
        var server = client.BaseUri.AbsoluteUri; // May carry a path (an API behind a proxy): append to it, as the library does.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{server}{(server.EndsWith('/') ? "" : "/")}{resource.Path(@namespace)}{query}")
        {
            Version = httpVersion,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (client.Credentials is { } credentials) await credentials.ProcessHttpRequestAsync(request, cancellationToken);
        // Headers only: the body is the stream of events.
        using var response = await CallAsync(() => client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken),
            what);
        if (!response.IsSuccessStatusCode)
            throw Failure(response.StatusCode, what, await response.Content.ReadAsStringAsync(cancellationToken), resource);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream);
        while (true)
        {
            var line = await CallAsync(() => reader.ReadLineAsync(cancellationToken).AsTask(), what);
            if (line is null) yield break; // The server ended the watch.
            if (line.Length == 0) continue;
            if (JsonNode.Parse(line) is not JsonObject watchEvent || watchEvent["object"] is not JsonObject item)
                throw new KubernetesException(500, $"The API server sent something that is not a watch event while trying to {what}.");
            var type = Text(watchEvent["type"]);
            if (type == "ERROR")
            {
                // A Status: 410 Expired when the resourceVersion left the server's window (list again), else a failure.
                var code = item["code"] is JsonValue value && value.TryGetValue<int>(out var c) ? c : 500;
                throw new KubernetesException(code, Explain((HttpStatusCode)code, what, Text(item["message"])));
            }
            yield return new WatchEvent(type switch
            {
                "ADDED" => WatchEventType.Added,
                "MODIFIED" => WatchEventType.Modified,
                "DELETED" => WatchEventType.Deleted,
                "BOOKMARK" => WatchEventType.Bookmark,
                _ => throw new KubernetesException(500, $"The API server sent a watch event of unknown type '{type}' while trying to {what}."),
            }, type == "BOOKMARK" ? item : Complete(resource)(item));
        }
    }

    public async Task<bool> DeleteAsync(ObjectReference reference, CancellationToken cancellationToken)
    {
        var kind = Kind(reference.ApiVersion, reference.Kind);
        try
        {
            await CallAsync(() => kind.Namespaced
                    ? client.CustomObjects.DeleteNamespacedCustomObjectAsync<JsonObject>(kind.Group, kind.Version, reference.Namespace!, kind.Plural,
                        reference.Name, propagationPolicy: Background, cancellationToken: cancellationToken)
                    : client.CustomObjects.DeleteClusterCustomObjectAsync<JsonObject>(kind.Group, kind.Version, kind.Plural, reference.Name,
                        propagationPolicy: Background, cancellationToken: cancellationToken),
                $"delete {kind.Kind} {Qualified(reference.Name, reference.Namespace)}", kind);
            return true;
        }
        catch (KubernetesException ex) when (ex.StatusCode == 404 && ex.NotServed is null)
        {
            return false;
        }
    }

    public async Task<string> ReadLogAsync(string @namespace, string pod, string? container, int tailLines, CancellationToken cancellationToken)
    {
        var stream = await CallAsync(() => client.CoreV1.ReadNamespacedPodLogAsync(pod, @namespace, container: container, tailLines: tailLines,
            cancellationToken: cancellationToken), $"read the log of pod {Qualified(pod, @namespace)}");
        await using (stream)
        using (var reader = new StreamReader(stream))
            return await reader.ReadToEndAsync(cancellationToken);
    }

    /// <summary>The API answers list items without apiVersion and kind; put them back, so every object this client returns is complete.</summary>
    private static Func<JsonObject, JsonObject> Complete(ResourceKind kind) => item =>
    {
        item["apiVersion"] ??= kind.ApiVersion;
        item["kind"] ??= kind.Kind;
        return item;
    };

    /// <summary>
    /// The library reads and writes through the configuration's JsonSerializerOptions, whose resolver is by
    /// default its own source-generated context of every model. This client exchanges only the types of
    /// <see cref="KubernetesWireJson"/>, so that context alone resolves them: the same under JIT and Native
    /// AOT, where the library's context is left out of the binary (ADR 0125). Once per configuration,
    /// before its first request makes the options read-only.
    /// </summary>
    private static void UseWireJson(KubernetesClientConfiguration configuration)
    {
        if (configuration.JsonSerializerOptions.TypeInfoResolver != KubernetesWireJson.Default)
            configuration.AddJsonOptions(options => options.TypeInfoResolver = KubernetesWireJson.Default);
    }

    /// <summary>A server-side apply or a JSON patch; Kubernetes accepts force=true only with server-side apply.</summary>
    private Task<JsonObject> Patch(ResourceKind kind, V1Patch body, string name, string? ns, CancellationToken cancellationToken)
    {
        bool? force = body.Type == V1Patch.PatchType.ApplyPatch ? true : null;
        return kind.Namespaced
            ? client.CustomObjects.PatchNamespacedCustomObjectAsync<JsonObject>(body, kind.Group, kind.Version, ns!, kind.Plural, name,
                fieldManager: fieldManager, force: force, cancellationToken: cancellationToken)
            : client.CustomObjects.PatchClusterCustomObjectAsync<JsonObject>(body, kind.Group, kind.Version, kind.Plural, name,
                fieldManager: fieldManager, force: force, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Every call goes through here, so every failure becomes a <see cref="KubernetesException"/> that says what to check;
    /// <paramref name="kind"/> is the kind the call addresses, for a 404 that says the server does not serve it at all.
    /// </summary>
    private async Task<T> CallAsync<T>(Func<Task<T>> call, string what, ResourceKind? kind = null)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException ex)
        {
            throw Failure(ex.Response?.StatusCode ?? 0, what, ex.Response?.Content, kind, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new KubernetesException(0, $"Cannot reach the Kubernetes API at {Server} to {what}: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
        {
            throw new KubernetesException(0, $"The Kubernetes API at {Server} did not answer in time to {what}.", ex);
        }
        catch (IOException ex)
        {
            // A stream (a watch) cut mid-way: the connection, not the API, failed.
            throw new KubernetesException(0, $"The connection to the Kubernetes API at {Server} broke while trying to {what}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// A failed answer as an exception. A 404 for an object names it (the Status's details.name); a 404 that names nothing (or is
    /// not a Status at all: "404 page not found") is the API server not serving the kind's path, which for a custom kind means its
    /// CustomResourceDefinition is not installed: a different problem from a missing object, so never read as "already gone".
    /// </summary>
    private static KubernetesException Failure(HttpStatusCode status, string what, string? content, ResourceKind? kind, Exception? inner = null)
    {
        if (status == HttpStatusCode.NotFound && kind is not null && !NamesAnObject(content))
        {
            var message = $"The Kubernetes API does not serve {kind.Plural} ({kind.ApiVersion}), so could not {what}: the kind's " +
                $"CustomResourceDefinition is not installed in this cluster.";
            return new KubernetesException(404, message, inner) { NotServed = kind };
        }
        return new KubernetesException((int)status, Explain(status, what, StatusMessage(content)), inner);
    }

    private static bool NamesAnObject(string? content)
    {
        if (string.IsNullOrWhiteSpace(content)) return false;
        try
        {
            return JsonNode.Parse(content)?["details"]?["name"] is JsonValue;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The message of a Kubernetes Status body, when the answer is one.</summary>
    private static string? StatusMessage(string? content)
    {
        if (string.IsNullOrWhiteSpace(content)) return null;
        try
        {
            return JsonNode.Parse(content)?["message"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null; // Not a Status (a proxy's error page): the status code alone says enough.
        }
    }

    /// <summary>Turns an API status into what an operator should check.</summary>
    internal static string Explain(HttpStatusCode status, string what, string? message) => status switch
    {
        HttpStatusCode.Unauthorized
            => $"The Kubernetes API did not accept the service-account token when trying to {what}. Is the token mounted and current?",
        HttpStatusCode.Forbidden => $"RBAC does not allow it to {what}: {message}. The install grants only what the agent needs; was it changed?",
        HttpStatusCode.NotFound => $"Not found when trying to {what}.",
        HttpStatusCode.Conflict => $"Conflict when trying to {what}: {message}",
        HttpStatusCode.UnprocessableEntity => $"Kubernetes rejected the object when trying to {what}: {message}",
        HttpStatusCode.TooManyRequests => $"The Kubernetes API is throttling the client; could not {what}.",
        _ => $"The Kubernetes API failed to {what} ({(int)status}): {message ?? "no details"}",
    };

    /// <summary>What a manifest addresses, among the agent's kinds (<see cref="ResourceKinds"/>).</summary>
    public static (ResourceKind Kind, string Name, string? Namespace) Describe(JsonObject manifest) => Describe(manifest, ResourceKinds.Get);

    private static (ResourceKind Kind, string Name, string? Namespace) Describe(JsonObject manifest, Func<string, string, ResourceKind> kinds)
    {
        var apiVersion = Text(manifest["apiVersion"]);
        var kindName = Text(manifest["kind"]);
        var name = Text(manifest["metadata"]?["name"]);
        if (string.IsNullOrWhiteSpace(apiVersion) || string.IsNullOrWhiteSpace(kindName) || string.IsNullOrWhiteSpace(name))
            throw new KubernetesException(400, "Every object needs apiVersion, kind and metadata.name.");
        var kind = kinds(apiVersion, kindName);
        var ns = Text(manifest["metadata"]?["namespace"]);
        if (kind.Namespaced && string.IsNullOrWhiteSpace(ns))
            throw new KubernetesException(400, $"{kindName} {name} needs metadata.namespace.");
        return (kind, name, kind.Namespaced ? ns : null);
    }

    /// <summary>One of the caller's extra kinds, else one of the agent's (which says what is supported when it is neither).</summary>
    private ResourceKind Kind(string apiVersion, string kind) =>
        moreKinds.FirstOrDefault(k => k.ApiVersion == apiVersion && k.Kind == kind) ?? ResourceKinds.Get(apiVersion, kind);

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string Qualified(string name, string? ns) => ns is null ? name : $"{ns}/{name}";

    public void Dispose() => client.Dispose();
}

/// <summary>
/// The only types this client exchanges with the API through the library: objects as JSON, the version
/// answer, and the patch body (written by the library's own V1Patch converter).
/// </summary>
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(VersionInfo))]
[JsonSerializable(typeof(V1Patch))]
internal sealed partial class KubernetesWireJson : JsonSerializerContext;
