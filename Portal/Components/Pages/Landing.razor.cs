using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Components.Pages;

/// <summary>The public front door: what Cogrion is, and the way in (or on, for someone already signed in).</summary>
public partial class Landing
{
    [CascadingParameter] private HttpContext HttpContext { get; set; } = default!;

    private bool SignedIn => HttpContext.User.Identity?.IsAuthenticated == true;
}
