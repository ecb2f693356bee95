using Cogrion.Portal.Components.Theme;
using Microsoft.AspNetCore.Components.Server;
using MudBlazor;
using MudBlazor.Services;

namespace Cogrion.Portal.Components;

public static class UserInterfaceServiceCollectionExtensions
{
    /// <summary>Interactive server rendering, MudBlazor, and the brand's theme.</summary>
    public static WebApplicationBuilder AddPortalUserInterface(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.Configure<CircuitOptions>(options => CircuitLimits.Apply(options));
        builder.Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            options.SnackbarConfiguration.VisibleStateDuration = 6000;
            options.SnackbarConfiguration.PreventDuplicates = false;
        });
        builder.Services.AddSingleton(BrandTheme.Load(Path.Combine(AppContext.BaseDirectory, "assets", "brand.json")));
        return builder;
    }
}
