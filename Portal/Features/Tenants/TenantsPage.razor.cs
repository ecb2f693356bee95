using Cogrion.Portal.Features.Tenants.Access;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Cogrion.Portal.Features.Tenants;

/// <summary>The tenants a person can enter: their memberships (and, for each, the subtree below).</summary>
public partial class TenantsPage
{
    [Inject] private TenantAccess Access { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private IReadOnlyList<TenantSummary>? tenants;

    protected override async Task OnInitializedAsync() =>
        tenants = await Access.ListEntryPointsAsync((await AuthenticationState).User, Aborted);
}
