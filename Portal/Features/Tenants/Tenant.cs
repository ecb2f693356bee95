namespace Cogrion.Portal.Features.Tenants;

/// <summary>A tenant as stored. <see cref="Slug"/> names it in every URL (<c>/t/{slug}</c>).</summary>
public sealed record Tenant(Guid Id, Guid? ParentId, string Slug, string Name, string Domain, DateTimeOffset CreatedAt);

/// <summary>One tenant of a subtree, with its depth below the subtree's root (0 for the root itself).</summary>
public sealed record TenantNode(Guid Id, Guid? ParentId, string Slug, string Name, string Domain, int Depth);

/// <summary>A tenant the reader can reach, with their effective role in it.</summary>
public sealed record TenantSummary(Guid Id, string Slug, string Name, string Domain, TenantRole Role);
