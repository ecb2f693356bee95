using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Cogrion.Kubernetes;

/// <summary>
/// <see cref="IKubernetesClient"/> on KubernetesClient.Aot, the official client's trimming-safe build
/// (the full KubernetesClient crashes at start under Native AOT). Writes are server-side apply
/// (<c>application/apply-patch+yaml</c>; a JSON body is valid YAML) with a field manager and
/// force=true. Objects cross this boundary as JSON: the typed models of <see cref="ResourceKinds"/>
/// are an implementation detail, converted with the library's own source-generated serializer.
/// </summary>
public sealed class KubernetesClient : IKubernetesClient, IDisposable
{
    private readonly k8s.Kubernetes client;
    private readonly string fieldManager;

    // KubernetesClient.Aot reads answers through its own source-generated JSON context, which knows the
    // built-in kinds only: custom resources (Flux's) come back as JsonElement, whose metadata we add once,
    // before the first call makes the options read-only.
    static KubernetesClient() => KubernetesJson.AddJsonOptions(options => options.TypeInfoResolverChain.Add(CustomObjectJson.Default));

    /// <param name="impersonate">
    /// A user every request acts as (Kubernetes' <c>Impersonate-User</c> header), for a narrower identity than the pod's own: the
    /// API server first checks that the pod's identity may <c>impersonate</c> it, then authorizes each request as that user only.
    /// </param>
    public KubernetesClient(KubernetesClientConfiguration configuration, string fieldManager = AgentLabels.FieldManager, string? impersonate = null)
    {
        client = impersonate is null ? new k8s.Kubernetes(configuration) : new k8s.Kubernetes(configuration, new ImpersonationHandler(impersonate));
        this.fieldManager = fieldManager;
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
        var (kind, name, ns) = Describe(manifest);
        var body = new V1Patch(manifest.ToJsonString(), V1Patch.PatchType.ApplyPatch);
        var applied = await CallAsync(() => kind.Operations.Patch(client, body, name, ns, fieldManager, cancellationToken),
            $"apply {kind.Kind} {Qualified(name, ns)}");
        return ToJson(applied);
    }

    public async Task<JsonObject> JsonPatchAsync(ObjectReference reference, JsonArray patch, CancellationToken cancellationToken)
    {
        var kind = ResourceKinds.For(reference);
        var body = new V1Patch(patch.ToJsonString(), V1Patch.PatchType.JsonPatch);
        var patched = await CallAsync(() => kind.Operations.Patch(client, body, reference.Name, reference.Namespace, fieldManager, cancellationToken),
            $"patch {kind.Kind} {Qualified(reference.Name, reference.Namespace)}");
        return ToJson(patched);
    }

    public async Task<JsonObject?> GetAsync(ObjectReference reference, CancellationToken cancellationToken)
    {
        var kind = ResourceKinds.For(reference);
        try
        {
            return ToJson(await CallAsync(() => kind.Operations.Read(client, reference.Name, reference.Namespace, cancellationToken),
                $"read {kind.Kind} {Qualified(reference.Name, reference.Namespace)}"));
        }
        catch (KubernetesException ex) when (ex.StatusCode == 404)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<JsonObject>> ListAsync(string apiVersion, string kind, string? @namespace, string? labelSelector,
        CancellationToken cancellationToken)
    {
        var resource = ResourceKinds.Get(apiVersion, kind);
        var list = await CallAsync(() => resource.Operations.List(client, resource.Namespaced ? @namespace : null, labelSelector, cancellationToken),
            $"list {resource.Plural}");
        return ToJson(list)["items"] is JsonArray items ? items.OfType<JsonObject>().Select(Complete(resource)).ToList() : [];
    }

    public async Task<bool> DeleteAsync(ObjectReference reference, CancellationToken cancellationToken)
    {
        var kind = ResourceKinds.For(reference);
        try
        {
            await CallAsync(async () =>
            {
                await kind.Operations.Delete(client, reference.Name, reference.Namespace, cancellationToken);
                return true;
            }, $"delete {kind.Kind} {Qualified(reference.Name, reference.Namespace)}");
            return true;
        }
        catch (KubernetesException ex) when (ex.StatusCode == 404)
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

    private static JsonObject ToJson(object value) =>
        JsonNode.Parse(value is JsonElement element ? element.GetRawText() : KubernetesJson.Serialize(value)) as JsonObject
            ?? throw new KubernetesException(500, "The API server answered with something that is not an object.");

    /// <summary>Every call goes through here, so every failure becomes a <see cref="KubernetesException"/> that says what to check.</summary>
    private async Task<T> CallAsync<T>(Func<Task<T>> call, string what)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException ex)
        {
            var status = ex.Response?.StatusCode ?? 0;
            throw new KubernetesException((int)status, Explain(status, what, StatusMessage(ex.Response?.Content)), ex);
        }
        catch (HttpRequestException ex)
        {
            throw new KubernetesException(0, $"Cannot reach the Kubernetes API at {Server} to {what}: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
        {
            throw new KubernetesException(0, $"The Kubernetes API at {Server} did not answer in time to {what}.", ex);
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

    public static (ResourceKind Kind, string Name, string? Namespace) Describe(JsonObject manifest)
    {
        var apiVersion = Text(manifest["apiVersion"]);
        var kindName = Text(manifest["kind"]);
        var name = Text(manifest["metadata"]?["name"]);
        if (string.IsNullOrWhiteSpace(apiVersion) || string.IsNullOrWhiteSpace(kindName) || string.IsNullOrWhiteSpace(name))
            throw new KubernetesException(400, "Every object needs apiVersion, kind and metadata.name.");
        var kind = ResourceKinds.Get(apiVersion, kindName);
        var ns = Text(manifest["metadata"]?["namespace"]);
        if (kind.Namespaced && string.IsNullOrWhiteSpace(ns))
            throw new KubernetesException(400, $"{kindName} {name} needs metadata.namespace.");
        return (kind, name, kind.Namespaced ? ns : null);
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string Qualified(string name, string? ns) => ns is null ? name : $"{ns}/{name}";

    public void Dispose() => client.Dispose();
}

/// <summary>The JSON metadata custom resources need (they are read as <see cref="JsonElement"/>).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class CustomObjectJson : System.Text.Json.Serialization.JsonSerializerContext;
