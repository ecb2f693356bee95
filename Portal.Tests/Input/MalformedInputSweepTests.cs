using System.Net;
using System.Text;
using System.Text.Json;
using Cogrion.Portal.Features.Agents.Authentication;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Cogrion.Portal.Tests.Input;

/// <summary>
/// Hostile input sent to every endpoint the Portal maps (read from its endpoint data source, so a
/// new endpoint is swept without being listed), as the caller who gets furthest: a platform admin
/// who is also an admin of the tenant for people's endpoints, the agent with its bearer token for
/// the agent API. Whatever is sent, nothing answers 5xx, every error of the API is a problem document
/// with its status and trace id, and a HEAD answer carries no body. Runs as tools/start.sh runs the
/// Portal (Development), where the developer exception page would show any unhandled exception.
/// </summary>
public sealed class MalformedInputSweepTests(WorkspaceAgentWorld world) : IClassFixture<WorkspaceAgentWorld>
{
    private sealed record Call(string What, HttpMethod Method, string Path, HttpContent? Content);

    private static readonly string[] HostileQueries =
        ["?wait=abc", "?wait=1e999", "?wait=-99999999999", "?x=%00", "?%00=1", "?x=%ED%A0%80", "?x=%E2%80%AEevil", "?skip=-1&take=1000000000"];

    /// <summary>Route values that are not what the route expects, each URL-encoded as a client would send it.</summary>
    private static readonly string[] HostileRouteValues =
        ["%E2%80%AEgnp.exe", "%ED%A0%80", "a%20b", "..", "%2e%2e%2f", new string('x', 3000), "ACME"];

    [Fact]
    public async Task No_endpoint_answers_hostile_input_with_a_server_error_or_without_a_problem()
    {
        var routes = PortalEndpoints.All(world.Portal.Services).Where(r => !r.IsFramework).ToList();
        var failures = new List<string>();
        var calls = 0;
        foreach (var route in routes)
        {
            foreach (var call in CallsFor(route))
            {
                calls++;
                var failure = await SendAsync(route, call);
                if (failure is not null) failures.Add($"{call.Method} {Shorten(call.Path)} with {call.What}: {failure}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} bad answer(s) of {calls}:\n" + string.Join("\n", failures.Take(80)));
        // The sweep is only as good as what it found: the API, the agent API and the pages must be among the routes.
        Assert.Contains(routes, r => r.Pattern.StartsWith("/api/v1/tenants/{tenant}/workspaces", StringComparison.Ordinal) && r.Method == "POST");
        Assert.Contains(routes, r => r.Pattern == "/api/agent/v1/heartbeat");
        Assert.Contains(routes, r => r.IsPage);
        Assert.True(calls >= 1000, $"Only {calls} calls: the sweep lost its routes or its bodies.");
    }

    private IEnumerable<Call> CallsFor(PortalEndpoints.Route route)
    {
        var method = new HttpMethod(route.Method);
        var path = PathWith(route, _ => null);
        yield return new Call("plausible values", method, path, null);
        foreach (var query in HostileQueries) yield return new Call($"the query {query}", method, path + query, null);
        foreach (var parameter in route.Endpoint.RoutePattern.Parameters.Where(p => p.ParameterPolicies.Count == 0))
            foreach (var value in HostileRouteValues)
                yield return new Call($"{{{parameter.Name}}} = {Shorten(value)}", method, PathWith(route, p => p == parameter.Name ? value : null),
                    null);
        if (route.Method == "GET") yield return new Call("HEAD", HttpMethod.Head, path, null);
        if (route.Method is not ("POST" or "PUT" or "PATCH" or "DELETE")) yield break;

        foreach (var body in HostileBodies.Shapeless) yield return new Call(body.What, method, path, Json(body.Json));
        yield return new Call("no Content-Type", method, path, new ByteArrayContent("{}"u8.ToArray()));
        yield return new Call("text/plain", method, path, new StringContent("{}", Encoding.UTF8, "text/plain"));
        yield return new Call("a form with a NUL", method, path, new StringContent("a=%00&b=1", Encoding.UTF8, "application/x-www-form-urlencoded"));
        var broken = new StringContent("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunterminated", Encoding.UTF8);
        broken.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        yield return new Call("a broken multipart body", method, path, broken);
        if (route.Endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is { RequestType: { } requestType })
            foreach (var body in HostileBodies.For(requestType))
                yield return new Call(body.What, method, path, Json(body.Json));
    }

    private static HttpContent Json(string json) => new StringContent(json, Encoding.UTF8, "application/json");

    /// <summary>The route with values that reach the endpoint (the tenant, its workspace, the agent, existing ids), or <paramref name="hostile"/>'s
    /// value.</summary>
    private string PathWith(PortalEndpoints.Route route, Func<string, string?> hostile)
    {
        var path = new StringBuilder();
        foreach (var segment in route.Endpoint.RoutePattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternSeparatorPart separator => separator.Content,
                    RoutePatternParameterPart parameter => hostile(parameter.Name) ?? Plausible(parameter),
                    _ => throw new InvalidOperationException($"Unexpected route part in {route}."),
                });
            }
        }
        return path.Length == 0 ? "/" : path.ToString();
    }

    private string Plausible(RoutePatternParameterPart parameter) => parameter.Name switch
    {
        TenantRoute.Parameter => WorkspaceAgentWorld.Slug,
        "name" => WorkspaceAgentWorld.WorkspaceName,
        "agentId" => world.Agent.AgentId.ToString(),
        "commandId" => world.PendingCommandId.ToString(),
        "accountId" => world.AccountId.ToString(),
        "workspaceId" => world.WorkspaceId.ToString(),
        "tenantId" => world.TenantId.ToString(),
        _ when parameter.ParameterPolicies.Any(p => p.Content is "long" or "int") => "2147483000",
        _ when parameter.IsCatchAll => "x",
        _ => Guid.NewGuid().ToString(),
    };

    /// <summary>Sends the call as the caller who gets furthest on this route; null when the answer is acceptable, else why not.</summary>
    private async Task<string?> SendAsync(PortalEndpoints.Route route, Call call)
    {
        var isAgentRoute = route.Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == AgentBearerHandler.PolicyName);
        using var request = isAgentRoute
            ? await world.AsAgentAsync(call.Method, call.Path, call.Content)
            : world.AsAdmin(call.Method, call.Path, call.Content);
        HttpResponseMessage response;
        try
        {
            response = await world.Client.SendAsync(request);
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("null characters", StringComparison.Ordinal))
        {
            return null; // refused by the server before the Portal sees it, as Kestrel does
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync();
            if (status >= 500) return $"{status}: {Shorten(body)}";
            if (call.Method == HttpMethod.Head) return body.Length == 0 ? null : $"HEAD answered with a body: {Shorten(body)}";
            // The API answers every error with a problem; pages answer with the error page, a redirect or the
            // framework's own text (a page form without its antiforgery token), and /metrics speaks Prometheus text.
            if (status < 400 || !call.Path.StartsWith("/api/", StringComparison.Ordinal)) return null;
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                return $"{status} as {response.Content.Headers.ContentType?.MediaType ?? "no content type"}, not a problem: {Shorten(body)}";
            try
            {
                var problem = JsonDocument.Parse(body).RootElement;
                return problem.TryGetProperty("status", out var s) && s.GetInt32() == status && problem.TryGetProperty("traceId", out _)
                    ? null : $"{status}: a problem without its status or trace id: {Shorten(body)}";
            }
            catch (JsonException)
            {
                return $"{status}: not JSON: {Shorten(body)}";
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
