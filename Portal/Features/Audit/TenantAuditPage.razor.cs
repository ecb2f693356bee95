namespace Cogrion.Portal.Features.Audit;

/// <summary>A tenant's trail for its admins: the tenant and its subtree, with export.</summary>
public partial class TenantAuditPage
{
    private AuditScope Scope => new AuditScope.TenantSubtree(Current.TenantId);
}
