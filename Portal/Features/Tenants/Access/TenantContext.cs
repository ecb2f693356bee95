namespace Cogrion.Portal.Features.Tenants.Access;

/// <summary>How a person came by their role in a tenant.</summary>
public enum TenantAccessSource
{
    /// <summary>A membership of this very tenant (possibly also strengthened by an ancestor's).</summary>
    Member,

    /// <summary>A membership of an ancestor: roles flow down the tree.</summary>
    Inherited,

    /// <summary>No membership at all: a platform admin reading the tenant. Read-only, and audited.</summary>
    PlatformAdmin,
}

/// <summary>The tenant a request or page works in, and what the person may do there. Only <see cref="TenantAccess"/> makes one.</summary>
public sealed record TenantContext(Tenant Tenant, TenantRole Role, TenantAccessSource Source, Guid? UserId)
{
    public Guid TenantId => Tenant.Id;
    public string Slug => Tenant.Slug;

    public bool Can(TenantRole minimum) => Role >= minimum;

    public bool IsAdmin => Can(TenantRole.Admin);

    /// <summary>
    /// The context a tenant endpoint was given by <see cref="TenantRouteGuard"/>. Declare a parameter of
    /// this type in a minimal-API handler; binding fails loudly when the endpoint forgot its requirement.
    /// </summary>
    public static ValueTask<TenantContext?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<TenantContext?>(context.Features.Get<TenantContext>()
            ?? throw new InvalidOperationException($"{context.GetEndpoint()?.DisplayName} takes a TenantContext but declares no tenant role: add " +
                $".RequireTenantRole(...)."));
}

/// <summary>The answer to "may this person open this tenant's page?".</summary>
public abstract record TenantAccessDecision
{
    /// <summary>Either the tenant does not exist or the person cannot see it; the two must look the same from outside.</summary>
    public sealed record NotFound : TenantAccessDecision;

    /// <summary>The person sees the tenant but their role is too weak for this page or action.</summary>
    public sealed record Forbidden(TenantContext Context) : TenantAccessDecision;

    public sealed record Granted(TenantContext Context) : TenantAccessDecision;
}
