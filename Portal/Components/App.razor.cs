using Cogrion.Portal.Components.Theme;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.AspNetCore.Components.Web;

namespace Cogrion.Portal.Components;

/// <summary>The document around every page: the stylesheets, the router and, on interactive pages, the scripts.</summary>
public partial class App
{
    [CascadingParameter] private HttpContext HttpContext { get; set; } = default!;
    [Inject] private ThemeStylesheet Theme { get; set; } = default!;
    [Inject] private Features.Secrets.SecretsScript Secrets { get; set; } = default!;
    [Inject] private Features.Support.SupportScript Support { get; set; } = default!;

    // The whole app is interactive (Blazor Server) except the few public pages marked
    // [ExcludeFromInteractiveRouting]: they must work without a signed-in circuit.
    private IComponentRenderMode? PageRenderMode => HttpContext.AcceptsInteractiveRouting() ? RenderMode.InteractiveServer : null;

    // Read from the request so the first render is already in the chosen scheme; the circuit gets it as a parameter.
    private ColourScheme ColourScheme => ColourSchemeCookie.Parse(HttpContext.Request.Cookies[ColourSchemeCookie.Name]);

    // The stylesheet picks the palette from this attribute; "system" follows prefers-color-scheme.
    private string SchemeAttribute => ColourSchemeCookie.ToValue(ColourScheme);
}
