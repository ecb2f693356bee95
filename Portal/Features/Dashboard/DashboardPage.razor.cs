using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;

namespace Cogrion.Portal.Features.Dashboard;

/// <summary>A tenant's home: who you are in it, and all its workspaces across clouds.</summary>
public partial class DashboardPage
{
    private string RoleLabel => Current.Source == TenantAccessSource.PlatformAdmin ? "platform admin (read-only)" : Current.Role.ToText();
}
