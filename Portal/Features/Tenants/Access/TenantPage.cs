using System.Security.Claims;
using Cogrion.Portal.Components;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Cogrion.Portal.Features.Tenants.Access;

/// <summary>
/// The base of every page under <c>/t/{tenant}/...</c>. <see cref="TenantRouteGuard"/> already
/// checked the first HTTP request, but inside a Blazor circuit navigation happens without one, so
/// the page checks again with the same service and the role its <see cref="RequiresTenantRoleAttribute"/> declares.
/// A page renders <c>&lt;TenantGate Outcome="Outcome"&gt;...&lt;/TenantGate&gt;</c> and reads
/// <see cref="Current"/> inside it; load data in <see cref="OnTenantReadyAsync"/>.
/// </summary>
public abstract class TenantPage : PortalComponentBase
{
    [Parameter] public string Tenant { get; set; } = "";

    [Inject] protected TenantAccess TenantAccess { get; set; } = default!;
    [Inject] protected NavigationManager Navigation { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private TenantContext? current;
    private string? resolvedSlug;

    protected TenantGateOutcome Outcome { get; private set; } = TenantGateOutcome.Checking;

    /// <summary>The tenant this page shows. Read it only inside the gate (or after <see cref="OnTenantReadyAsync"/>).</summary>
    protected TenantContext Current => current ?? throw new InvalidOperationException("The tenant is read only after access was granted.");

    protected ClaimsPrincipal User { get; private set; } = new();

    protected sealed override async Task OnParametersSetAsync()
    {
        // The same page instance is reused when the tenant switcher changes only the route's tenant.
        if (resolvedSlug == Tenant) return;
        resolvedSlug = Tenant;
        current = null;
        Outcome = TenantGateOutcome.Checking;
        User = (await AuthenticationState).User;
        var minimum = RequiresTenantRoleAttribute.Of(GetType());
        var resource = "/" + Navigation.ToBaseRelativePath(Navigation.Uri).Split('?')[0];
        switch (await TenantAccess.CheckAsync(User, Tenant, minimum, resource, Aborted))
        {
            case TenantAccessDecision.Granted granted:
                current = granted.Context;
                Outcome = TenantGateOutcome.Granted;
                await TenantAccess.RememberLastTenantAsync(granted.Context, Aborted);
                await OnTenantReadyAsync();
                break;
            case TenantAccessDecision.Forbidden:
                Outcome = TenantGateOutcome.Forbidden;
                break;
            default:
                Outcome = TenantGateOutcome.NotFound;
                break;
        }
    }

    /// <summary>Called once access is granted (and again when the route's tenant changes): load the page's data here.</summary>
    protected virtual Task OnTenantReadyAsync() => Task.CompletedTask;
}

public enum TenantGateOutcome { Checking, Granted, Forbidden, NotFound }
