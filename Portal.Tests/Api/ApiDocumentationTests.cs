using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Cogrion.Portal.Tests.Api;

/// <summary>
/// The OpenAPI document of /api/v1 and its Scalar reference at /api/docs: complete (every endpoint
/// the Portal maps under /api/v1, found from its endpoint data source, is described with its problem
/// responses), for signed-in people only, and served without a byte from another origin.
/// </summary>
public sealed partial class ApiDocumentationTests(ProductionWorkspaceAgentWorld world) : IClassFixture<ProductionWorkspaceAgentWorld>
{
    private async Task<JsonElement> DocumentAsync()
    {
        var response = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Get, "/api/openapi/v1.json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The route as OpenAPI writes it: constraints dropped ({userId:guid} is {userId}).</summary>
    private static string OpenApiPath(RoutePattern pattern) =>
        RouteConstraint().Replace("/" + pattern.RawText!.Trim('/'), "{$1}");

    [GeneratedRegex(@"\{([^}:?*]+)[^}]*\}")]
    private static partial Regex RouteConstraint();

    [Fact]
    public async Task Every_api_v1_endpoint_is_described_with_its_problem_responses()
    {
        var document = await DocumentAsync();
        var paths = document.GetProperty("paths");
        var routes = PortalEndpoints.All(world.Portal.Services)
            .Where(r => r.Pattern.StartsWith("/api/v1/", StringComparison.Ordinal) || r.Pattern == "/api/v1").ToList();
        var missing = new List<string>();

        foreach (var route in routes)
        {
            var path = OpenApiPath(route.Endpoint.RoutePattern);
            if (!paths.TryGetProperty(path, out var item) || !item.TryGetProperty(route.Method.ToLowerInvariant(), out var operation))
            {
                missing.Add($"{route.Method} {path}: not in the document");
                continue;
            }
            var responses = operation.GetProperty("responses");
            foreach (var status in new[] { "401", "403" })
                if (!responses.TryGetProperty(status, out _)) missing.Add($"{route.Method} {path}: no {status}");
            foreach (var error in responses.EnumerateObject().Where(r => r.Name.StartsWith('4')))
                if (!error.Value.TryGetProperty("content", out var content) || !content.TryGetProperty("application/problem+json", out _))
                    missing.Add($"{route.Method} {path}: {error.Name} is not a problem");
        }

        Assert.True(missing.Count == 0, string.Join("\n", missing));
        Assert.True(routes.Count >= 20, $"Only {routes.Count} /api/v1 routes found: the test lost its routes.");
        Assert.True(document.GetProperty("components").GetProperty("schemas").TryGetProperty("ProblemDetails", out _));
    }

    [Fact]
    public async Task The_document_describes_the_public_api_only()
    {
        var paths = (await DocumentAsync()).GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();

        Assert.All(paths, path => Assert.StartsWith("/api/v1", path));
        Assert.Contains("/api/v1/tenants/{tenant}/workspaces", paths);
    }

    [Fact]
    public async Task The_document_and_the_reference_are_for_signed_in_people()
    {
        var document = await world.Client.GetAsync("/api/openapi/v1.json");
        var reference = await world.Client.GetAsync("/api/docs");
        var signedIn = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Get, "/api/docs/"));

        Assert.Equal(HttpStatusCode.Unauthorized, document.StatusCode);
        Assert.Equal("application/problem+json", document.Content.Headers.ContentType?.MediaType);
        // A page, not an API call: a signed-out person is sent to sign in.
        Assert.Equal(HttpStatusCode.Redirect, reference.StatusCode);
        Assert.Contains("/realms/", reference.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        Assert.Equal("text/html", signedIn.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_reference_page_takes_its_script_and_document_from_the_portal_itself()
    {
        var html = await (await world.Client.SendAsync(world.AsAdmin(HttpMethod.Get, "/api/docs/"))).Content.ReadAsStringAsync();

        var urls = Regex.Matches(html, """(?:src|href)\s*=\s*["']([^"']+)["']""").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(urls);
        Assert.All(urls, url
            => Assert.False(Uri.TryCreate(url, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal),
            $"{url} is on another origin"));
        Assert.DoesNotMatch("https?://(?!localhost)", html.Replace("http://www.w3.org", "", StringComparison.Ordinal));
        foreach (var url in urls.Where(u => u.EndsWith(".js", StringComparison.Ordinal)))
        {
            var script = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Get, new Uri(new Uri("http://localhost/api/docs/"), url)
                .AbsolutePath));
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        }
    }
}
