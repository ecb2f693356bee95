using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// Every route the Portal maps, read from its own EndpointDataSource, so a test that goes over
/// them covers a route added tomorrow without being told (the route matrix, the malformed-input sweep).
/// Static files are left out: they are public by <c>MapStaticAssets().AllowAnonymous()</c> and take no input.
/// </summary>
public static class PortalEndpoints
{
    /// <summary>The framework's own endpoints: Blazor's circuit and script, and the static-asset fallback.</summary>
    public static readonly string[] FrameworkPrefixes = ["/_blazor", "/_framework", "/{**path:file}"];

    public sealed record Route(RouteEndpoint Endpoint, string Method)
    {
        public string Pattern => "/" + Endpoint.RoutePattern.RawText!.TrimStart('/');
        public bool IsPage => Endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;
        public bool IsFramework => FrameworkPrefixes.Any(p => Pattern.StartsWith(p, StringComparison.Ordinal));
        public override string ToString() => $"{Method} {Pattern}";
    }

    /// <summary>Each route once per HTTP method it answers, ordered by pattern.</summary>
    public static IReadOnlyList<Route> All(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<StaticAssetDescriptor>() is null)
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => new Route(e, m)))
            .DistinctBy(r => r.ToString())
            .OrderBy(r => r.Pattern, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)
            .ToList();
}
