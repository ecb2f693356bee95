using System.Security.Claims;
using Cogrion.Portal.Components;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Routing;

namespace Cogrion.Portal.Features.Tenants.Access;

/// <summary>
/// A layout component that follows the tenant in the current URL (<c>/t/{slug}/...</c>) as the person
/// navigates, resolved through <see cref="TenantAccess"/>: the navigation menu and the tenant switcher.
/// <see cref="CurrentTenant"/> is null outside a tenant page and for tenants the person cannot see.
/// </summary>
public abstract class TenantRouteComponent : PortalComponentBase
{
    [Inject] protected NavigationManager Navigation { get; set; } = default!;
    [Inject] protected TenantAccess TenantAccess { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthenticationState { get; set; }

    private string? resolvedSlug;

    protected TenantContext? CurrentTenant { get; private set; }
    protected ClaimsPrincipal User { get; private set; } = new();

    protected override async Task OnInitializedAsync()
    {
        Navigation.LocationChanged += OnLocationChanged;
        if (AuthenticationState is not null) User = (await AuthenticationState).User;
        await OnUserKnownAsync();
        await FollowAsync();
    }

    /// <summary>Called once the signed-in person is known, before the first tenant is resolved.</summary>
    protected virtual Task OnUserKnownAsync() => Task.CompletedTask;

    /// <summary>Called whenever the URL's tenant changes (including to none).</summary>
    protected virtual Task OnTenantChangedAsync() => Task.CompletedTask;

    private async Task FollowAsync()
    {
        var path = Navigation.ToBaseRelativePath(Navigation.Uri);
        var slug = TenantRoute.SlugOf(path);
        if (slug == resolvedSlug && (slug is null || CurrentTenant is not null)) return;
        resolvedSlug = slug;
        // The same resource text as the page itself, so a platform admin's visit is audited once, not per component.
        CurrentTenant = slug is null || User.Identity?.IsAuthenticated != true ? null
            : await TenantAccess.ResolveAsync(User, slug, "/" + path.Split('?', '#')[0], Aborted);
        await OnTenantChangedAsync();
    }

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e) =>
        _ = InvokeAsync(async () =>
        {
            await FollowAsync();
            StateHasChanged();
        });

    protected override void OnDisposing() => Navigation.LocationChanged -= OnLocationChanged;
}
