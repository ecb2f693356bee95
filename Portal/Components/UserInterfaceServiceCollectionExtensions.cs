using Cogrion.Portal.Components.Theme;
using MudBlazor;
using MudBlazor.Services;

namespace Cogrion.Portal.Components;

public static class UserInterfaceServiceCollectionExtensions
{
    /// <summary>Interactive server rendering, MudBlazor, and the brand's theme.</summary>
    public static WebApplicationBuilder AddPortalUserInterface(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            options.SnackbarConfiguration.VisibleStateDuration = 6000;
            options.SnackbarConfiguration.PreventDuplicates = false;
        });
        var brand = BrandTheme.Load(Path.Combine(AppContext.BaseDirectory, "assets", "brand.json"));
        builder.Services.AddSingleton(brand);
        builder.Services.AddSingleton(_ => ThemeStylesheet.Build(brand));
        return builder;
    }

    /// <summary>The brand's colours as one cacheable stylesheet (public: the landing page uses it too).</summary>
    public static WebApplication MapThemeStylesheet(this WebApplication app)
    {
        app.MapGet(ThemeStylesheet.Path, (ThemeStylesheet theme, HttpContext context) =>
        {
            // The page links it with ?v=<hash of the content>: a new brand is a new address.
            context.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
            return Results.Text(theme.Css, "text/css; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
