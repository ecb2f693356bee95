using Cogrion.Portal.Features.Tenants;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>The tenant's workspaces, with the way to a new one for operators.</summary>
public partial class WorkspacesPage
{
    private string Subtitle => $"{Current.Tenant.Name}'s data platforms in AWS, AliCloud or sandbox accounts, each under {Current.Tenant.Domain}.";

    private bool CanCreate => Current.Can(TenantRole.Operator);
}
