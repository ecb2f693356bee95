using Cogrion.Portal.Components;
using Cogrion.Portal.Features.Tenants.Access;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Cogrion.Portal.Features.Dashboard;

public partial class DashboardRedirect
{
    [Inject] private TenantAccess Access { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        var user = (await AuthenticationState).User;
        var slug = await Access.FindHomeTenantSlugAsync(user, Aborted);
        var target = slug is not null ? $"t/{Uri.EscapeDataString(slug)}"
            : await Access.IsPlatformAdminAsync(user) ? "admin"
            : "onboarding";
        Navigation.NavigateTo(target, replace: true);
    }
}
