namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>
/// Declares that a page or endpoint needs only a signed-in person and serves nothing but that
/// person's own data (their profile, their tenants, their own actions), so it takes no tenant from
/// the route. Every endpoint must be classifiable: public (<c>[AllowAnonymous]</c>), platform admin
/// (<see cref="PortalPolicies.PlatformAdmin"/>), tenant-scoped (<c>[RequiresTenantRole]</c>), or this.
/// The route-matrix test fails on any endpoint that is none of them.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class UserScopedAttribute : Attribute;
