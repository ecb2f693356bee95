using Cogrion.Portal.Components.Theme;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace Cogrion.Portal.Components.Layout;

/// <summary>
/// The signed-in shell: header (brand, tenant switcher, colour scheme, user), navigation drawer and the
/// page. The colour scheme is the system's unless the person picked light or dark; the stylesheet follows
/// the page's <c>data-colour-scheme</c>, so switching is one script call and no circuit tracks it.
/// </summary>
public partial class MainLayout
{
    [Inject] private BrandTheme Brand { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [CascadingParameter] private ColourScheme RememberedScheme { get; set; }

    private bool navigationOpen = true;
    private ColourScheme scheme;

    private string LayoutClass => navigationOpen
        ? "mud-layout mud-drawer-open-persistent-left mud-drawer-left-clipped-always"
        : "mud-layout mud-drawer-close-persistent-left mud-drawer-left-clipped-always";

    private string DrawerClass =>
        $"mud-drawer mud-drawer-fixed mud-drawer-pos-left mud-drawer-md mud-drawer-clipped-always mud-elevation-0 mud-drawer-persistent " +
            $"portal-drawer {(navigationOpen ? "mud-drawer--open" : "mud-drawer--closed")}";

    private string SchemeLabel => scheme switch
    {
        ColourScheme.Dark => "Colour scheme: dark. Switch to light",
        ColourScheme.Light => "Colour scheme: light. Switch to the system's",
        _ => "Colour scheme: the system's. Switch to dark",
    };

    private string SchemeIcon => scheme switch
    {
        ColourScheme.Dark => Icons.Material.Filled.DarkMode,
        ColourScheme.Light => Icons.Material.Filled.LightMode,
        _ => Icons.Material.Filled.BrightnessAuto,
    };

    protected override void OnInitialized() => scheme = RememberedScheme;

    private async Task SwitchColourSchemeAsync()
    {
        scheme = ColourSchemeCookie.Next(scheme);
        await JS.InvokeVoidAsync("cogrionPortal.setColourScheme", ColourSchemeCookie.ToValue(scheme));
    }

    private void ToggleNavigation() => navigationOpen = !navigationOpen;
}
