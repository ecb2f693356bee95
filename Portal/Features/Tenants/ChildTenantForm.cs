using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Tenants;

/// <summary>What the "create a child tenant" form holds, and the request it makes of <see cref="TenantStore"/>.</summary>
public sealed class ChildTenantForm(Guid? parentId, string parentDomain)
{
    public string? Name { get; set; }
    public string? Slug { get; set; }
    public string? Domain { get; set; }
    public FieldErrors Errors { get; set; } = new();

    /// <summary>The domain the child gets when the field is left empty (shown as the field's placeholder).</summary>
    public string DefaultDomain => TenantRules.DefaultDomain(string.IsNullOrEmpty(Slug) ? "<slug>" : Slug, parentDomain);

    /// <summary>An empty domain field means the default: the store derives it from the slug.</summary>
    public NewTenant Request() => new(Name, Slug, string.IsNullOrWhiteSpace(Domain) ? null : Domain, parentId);

    public void Clear()
    {
        Name = Slug = Domain = null;
        Errors = new FieldErrors();
    }
}
