using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Kubernetes;

/// <summary>
/// A small typed Kubernetes client over HttpClient (no client package exists on our feed, and the
/// agent must stay AOT-friendly). Writes are server-side apply: PATCH with
/// application/apply-patch+yaml (a JSON body is valid YAML), fieldManager=cogrion-agent, force=true.
/// </summary>
public sealed class KubernetesClient : IKubernetesClient, IDisposable
{
    public const string ApplyContentType = "application/apply-patch+yaml";
    private readonly HttpClient http;
    private readonly KubernetesConnection connection;

    public KubernetesClient(KubernetesConnection connection)
    {
        this.connection = connection;
        http = new HttpClient(connection.CreateHandler()) { BaseAddress = connection.Server, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task<string> GetVersionAsync(CancellationToken cancellationToken)
    {
        var body = await SendAsync(HttpMethod.Get, "/version", null, "read the server version", cancellationToken);
        return body?["gitVersion"]?.GetValue<string>() ?? "unknown";
    }

    public async Task<JsonObject> ApplyAsync(JsonObject manifest, CancellationToken cancellationToken)
    {
        var (kind, name, ns) = Describe(manifest);
        var path = kind.ObjectPath(name, ns) + $"?fieldManager={AgentLabels.FieldManager}&force=true";
        var content = new StringContent(manifest.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(ApplyContentType);
        return await SendAsync(HttpMethod.Patch, path, content, $"apply {kind.Kind} {Qualified(name, ns)}", cancellationToken)
            ?? throw new KubernetesException(500, $"The API server answered the apply of {kind.Kind} {Qualified(name, ns)} without a body.");
    }

    public async Task<JsonObject?> GetAsync(ObjectReference reference, CancellationToken cancellationToken)
    {
        var kind = ResourceKinds.For(reference);
        try
        {
            return await SendAsync(HttpMethod.Get, kind.ObjectPath(reference.Name, reference.Namespace), null,
                $"read {kind.Kind} {Qualified(reference.Name, reference.Namespace)}", cancellationToken);
        }
        catch (KubernetesException ex) when (ex.StatusCode == 404)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<JsonObject>> ListAsync(string apiVersion, string kind, string? @namespace, string? labelSelector, CancellationToken cancellationToken)
    {
        var resource = ResourceKinds.Get(apiVersion, kind);
        var path = resource.CollectionPath(@namespace) + (labelSelector is null ? "" : "?labelSelector=" + Uri.EscapeDataString(labelSelector));
        var list = await SendAsync(HttpMethod.Get, path, null, $"list {resource.Plural}", cancellationToken);
        return list?["items"] is JsonArray items ? items.OfType<JsonObject>().ToList() : [];
    }

    public async Task<bool> DeleteAsync(ObjectReference reference, CancellationToken cancellationToken)
    {
        var kind = ResourceKinds.For(reference);
        try
        {
            await SendAsync(HttpMethod.Delete, kind.ObjectPath(reference.Name, reference.Namespace) + "?propagationPolicy=Background", null,
                $"delete {kind.Kind} {Qualified(reference.Name, reference.Namespace)}", cancellationToken);
            return true;
        }
        catch (KubernetesException ex) when (ex.StatusCode == 404)
        {
            return false;
        }
    }

    private async Task<JsonObject?> SendAsync(HttpMethod method, string path, HttpContent? content, string what, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Accept.ParseAdd("application/json");
        if (connection.ReadToken() is { Length: > 0 } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new KubernetesException(0, $"Cannot reach the Kubernetes API at {connection.Server} to {what}: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KubernetesException(0, $"The Kubernetes API at {connection.Server} did not answer in time to {what}.", ex);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonObject? body = null;
            try
            {
                body = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null;
            }
            catch (JsonException)
            {
                // Not JSON (a proxy's error page): the status code alone says enough.
            }
            if (response.IsSuccessStatusCode) return body;
            throw new KubernetesException((int)response.StatusCode, Explain(response.StatusCode, what, body?["message"]?.GetValue<string>()));
        }
    }

    /// <summary>Turns an API status into what an operator should check.</summary>
    internal static string Explain(HttpStatusCode status, string what, string? message) => status switch
    {
        HttpStatusCode.Unauthorized => $"The Kubernetes API did not accept the agent's service-account token when trying to {what}. Is the token mounted and current?",
        HttpStatusCode.Forbidden => $"The agent's RBAC does not allow it to {what}: {message}. The install manifest grants only what the agent needs; was it changed?",
        HttpStatusCode.NotFound => $"Not found when trying to {what}.",
        HttpStatusCode.Conflict => $"Conflict when trying to {what}: {message}",
        HttpStatusCode.UnprocessableEntity => $"Kubernetes rejected the object when trying to {what}: {message}",
        HttpStatusCode.TooManyRequests => $"The Kubernetes API is throttling the agent; could not {what}.",
        _ => $"The Kubernetes API failed to {what} ({(int)status}): {message ?? "no details"}",
    };

    internal static (ResourceKind Kind, string Name, string? Namespace) Describe(JsonObject manifest)
    {
        var apiVersion = manifest["apiVersion"]?.GetValue<string>();
        var kindName = manifest["kind"]?.GetValue<string>();
        var name = manifest["metadata"]?["name"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(apiVersion) || string.IsNullOrWhiteSpace(kindName) || string.IsNullOrWhiteSpace(name))
            throw new KubernetesException(400, "Every object needs apiVersion, kind and metadata.name.");
        var kind = ResourceKinds.Get(apiVersion, kindName);
        var ns = manifest["metadata"]?["namespace"]?.GetValue<string>();
        if (kind.Namespaced && string.IsNullOrWhiteSpace(ns))
            throw new KubernetesException(400, $"{kindName} {name} needs metadata.namespace.");
        return (kind, name, kind.Namespaced ? ns : null);
    }

    private static string Qualified(string name, string? ns) => ns is null ? name : $"{ns}/{name}";

    public void Dispose() => http.Dispose();
}
