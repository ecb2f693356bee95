using Cogrion.Portal.Infrastructure.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Cogrion.Portal.Features.Audit;

/// <summary>The personal audit page: everything for platform admins, one's own actions for everyone else.</summary>
public partial class AuditPage
{
    [Inject] private IAuthorizationService Authorization { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    // Null until the reader is known: the grid is not rendered (and so loads nothing) before that.
    private AuditScope? scope;
    private string subtitle = "";

    protected override async Task OnInitializedAsync()
    {
        var user = (await AuthenticationState).User;
        if ((await Authorization.AuthorizeAsync(user, PortalPolicies.PlatformAdmin)).Succeeded)
        {
            scope = new AuditScope.Everything();
            subtitle = "Every change made by a person, an agent or the Portal itself, across the platform.";
        }
        else
        {
            scope = new AuditScope.OwnActions(user.GetUserId()?.ToString() ?? "");
            subtitle = "The changes you made. A tenant's whole trail is on that tenant's Audit page, for its admins.";
        }
    }
}
