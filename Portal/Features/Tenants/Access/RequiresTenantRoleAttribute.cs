namespace Cogrion.Portal.Features.Tenants.Access;

/// <summary>
/// Declares that a page or endpoint serves one tenant's data, named by the <c>{tenant}</c> route
/// value, and the least role it takes. It is endpoint metadata: <see cref="TenantRouteGuard"/>
/// enforces it on every HTTP request, <see cref="TenantPage"/> again inside a Blazor circuit, and
/// the route-matrix test reads it to know what each role must get.
/// On a page: <c>@attribute [RequiresTenantRole(TenantRole.Admin)]</c>.
/// On an endpoint: <c>.RequireTenantRole(TenantRole.Admin)</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class RequiresTenantRoleAttribute(TenantRole minimum) : Attribute
{
    public TenantRole Minimum { get; } = minimum;

    /// <summary>The requirement declared on a page type; a tenant page without one is a programming error.</summary>
    public static TenantRole Of(Type pageType) =>
        (pageType.GetCustomAttributes(typeof(RequiresTenantRoleAttribute), inherit: true).FirstOrDefault() as RequiresTenantRoleAttribute)?.Minimum
        ?? throw new InvalidOperationException($"{pageType.Name} is a tenant page but declares no [RequiresTenantRole(...)].");
}

public static class TenantRoute
{
    /// <summary>The route value that carries the current tenant's slug: <c>/t/{tenant}/...</c>, <c>/api/v1/tenants/{tenant}/...</c>.</summary>
    public const string Parameter = "tenant";

    public static RouteHandlerBuilder RequireTenantRole(this RouteHandlerBuilder builder, TenantRole minimum) =>
        builder.WithMetadata(new RequiresTenantRoleAttribute(minimum));

    /// <summary>The tenant slug of a Portal page path ("t/acme/members" or "/t/acme"), or null outside a tenant.</summary>
    public static string? SlugOf(string path)
    {
        var segments = path.Split('?', '#')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length >= 2 && segments[0] == "t" ? Uri.UnescapeDataString(segments[1]) : null;
    }
}
