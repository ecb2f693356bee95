using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Agents.Kubernetes;

/// <summary>
/// A stand-in Kubernetes API server on a loopback Kestrel port. It answers like the real one for
/// the calls the agent makes (version, server-side apply, get, list, delete) and records every
/// request, so a test can check paths, content types, the field manager and the bearer token.
/// </summary>
public sealed class FakeKubernetesApiServer : IAsyncDisposable
{
    public sealed record Request(string Method, string Path, string Query, string? ContentType, string? Authorization, string Body);

    private LoopbackServer server = null!;
    private readonly ConcurrentDictionary<string, JsonObject> objects = new();
    public ConcurrentQueue<Request> Requests { get; } = new();
    public string BaseUrl => server.BaseUrl;

    /// <summary>Paths (prefix) answered with 403, to test RBAC error messages.</summary>
    public ConcurrentBag<string> Forbidden { get; } = [];

    private FakeKubernetesApiServer()
    {
    }

    public static async Task<FakeKubernetesApiServer> StartAsync()
    {
        var fake = new FakeKubernetesApiServer();
        fake.server = await LoopbackServer.StartAsync(fake.HandleAsync);
        return fake;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync();
        var path = request.Path.Value!;
        Requests.Enqueue(new Request(request.Method, path, request.QueryString.Value ?? "", request.ContentType, request.Headers.Authorization.ToString(), body));

        if (Forbidden.Any(path.StartsWith))
        {
            await Status(context, 403, $"{path} is forbidden: User \"system:serviceaccount:cogrion-agent:cogrion-agent\" cannot do this");
            return;
        }
        if (path == "/version")
        {
            await context.Response.WriteAsJsonAsync(new { major = "1", minor = "31", gitVersion = "v1.31.2" });
            return;
        }
        switch (request.Method)
        {
            case "PATCH":
                if (request.ContentType != "application/apply-patch+yaml")
                {
                    await Status(context, 415, "the body of the request was in an unknown format");
                    return;
                }
                var applied = JsonNode.Parse(body)!.AsObject();
                applied["metadata"]!["resourceVersion"] = "1";
                objects[path] = applied;
                await context.Response.WriteAsync(applied.ToJsonString());
                return;
            case "GET" when objects.TryGetValue(path, out var found):
                await context.Response.WriteAsync(found.ToJsonString());
                return;
            case "GET" when IsObjectPath(path):
                await Status(context, 404, "not found");
                return;
            case "GET":
                var items = new JsonArray(objects.Where(o => o.Key.StartsWith(path + "/", StringComparison.Ordinal) && o.Key[(path.Length + 1)..].IndexOf('/') < 0)
                    .Select(o => (JsonNode)o.Value.DeepClone()).ToArray());
                await context.Response.WriteAsync(new JsonObject { ["kind"] = "List", ["items"] = items }.ToJsonString());
                return;
            case "DELETE":
                if (objects.TryRemove(path, out _)) await context.Response.WriteAsync("""{"kind":"Status","status":"Success"}""");
                else await Status(context, 404, "not found");
                return;
            default:
                await Status(context, 405, "method not allowed");
                return;
        }
    }

    /// <summary>/api/v1 and /apis/{group}/{version} are followed by {plural}[/{name}] or namespaces/{ns}/{plural}[/{name}]: an even count names an object.</summary>
    private static bool IsObjectPath(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var prefix = segments[0] == "api" ? 2 : 3;
        return (segments.Length - prefix) % 2 == 0;
    }

    private static Task Status(HttpContext context, int code, string message)
    {
        context.Response.StatusCode = code;
        return context.Response.WriteAsync(new JsonObject { ["kind"] = "Status", ["status"] = "Failure", ["message"] = message, ["code"] = code }.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
    }
}
