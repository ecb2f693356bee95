using Cogrion.Portal.Components.Theme;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace Cogrion.Portal.Components.Layout;

/// <summary>
/// The signed-in shell: header (brand, tenant switcher, colour scheme, user), navigation drawer and
/// the page. The colour scheme follows the system unless the person picked light or dark; the pick
/// is remembered in a cookie so the next page is rendered in it from the start.
/// </summary>
public partial class MainLayout
{
    [Inject] private BrandTheme Brand { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [CascadingParameter] private ColourScheme RememberedScheme { get; set; }

    private MudThemeProvider? themeProvider;
    private bool navigationOpen = true;
    private ColourScheme scheme;
    private bool systemIsDark;
    private bool isDarkMode;

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

    protected override void OnInitialized()
    {
        scheme = RememberedScheme;
        isDarkMode = scheme == ColourScheme.Dark;
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender || themeProvider is null || !RendererInfo.IsInteractive) return;
        // Only the browser knows the system's scheme, and it may change while the page is open.
        systemIsDark = await themeProvider.GetSystemDarkModeAsync();
        await themeProvider.WatchSystemDarkModeAsync(OnSystemSchemeChangedAsync);
        if (Apply()) StateHasChanged();
    }

    private Task OnSystemSchemeChangedAsync(bool dark)
    {
        systemIsDark = dark;
        if (Apply()) StateHasChanged();
        return Task.CompletedTask;
    }

    private bool Apply()
    {
        var dark = scheme == ColourScheme.Dark || (scheme == ColourScheme.System && systemIsDark);
        if (dark == isDarkMode) return false;
        isDarkMode = dark;
        return true;
    }

    private async Task SwitchColourSchemeAsync()
    {
        scheme = ColourSchemeCookie.Next(scheme);
        Apply();
        await JS.InvokeVoidAsync("cogrionPortal.rememberColourScheme", ColourSchemeCookie.ToValue(scheme));
    }

    private void ToggleNavigation() => navigationOpen = !navigationOpen;
}
