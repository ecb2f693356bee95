using System.Text.Json;
using System.Text.Json.Serialization;
using MudBlazor;

namespace Cogrion.Portal.Components.Theme;

/// <summary>
/// The MudBlazor theme built from the brand file (<c>wwwroot-assets/brand.json</c>, served under
/// <c>/assets</c>): colours for the light and the dark scheme, and the fonts. One source for the
/// brand, so a new palette is a change to that file only; <c>theme.css</c> uses the variables
/// MudBlazor derives from this theme (<c>--mud-palette-*</c>), never colours of its own.
/// </summary>
public sealed class BrandTheme
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };

    public BrandTheme(MudTheme theme, string name, string logo)
    {
        Theme = theme;
        Name = name;
        Logo = logo;
    }

    public MudTheme Theme { get; }

    /// <summary>The product name the header shows next to the logo.</summary>
    public string Name { get; }

    /// <summary>The logo's path under <c>/assets</c>.</summary>
    public string Logo { get; }

    public static BrandTheme Load(string path)
    {
        var brand = JsonSerializer.Deserialize<BrandFile>(File.ReadAllText(path), Json)
            ?? throw new InvalidOperationException($"{path} is empty.");
        var theme = new MudTheme
        {
            PaletteLight = Apply(new PaletteLight(), brand.Light),
            PaletteDark = Apply(new PaletteDark(), brand.Dark),
            Typography = new Typography(),
            LayoutProperties = new LayoutProperties { DefaultBorderRadius = "8px", DrawerWidthLeft = "240px" },
        };
        theme.Typography.Default.FontFamily = brand.FontFamily;
        foreach (var heading in new[] { theme.Typography.H1, theme.Typography.H2, theme.Typography.H3, theme.Typography.H4, theme.Typography.H5,
            theme.Typography.H6 })
            heading.FontFamily = brand.FontFamily;
        // Material's upper-case buttons read as shouting; the brand writes them as sentences.
        theme.Typography.Button.TextTransform = "none";
        return new BrandTheme(theme, brand.Name, brand.Logo);
    }

    private static T Apply<T>(T palette, BrandPalette colours) where T : Palette
    {
        palette.Primary = colours.Primary;
        palette.PrimaryContrastText = colours.PrimaryContrastText;
        palette.Secondary = colours.Secondary;
        palette.SecondaryContrastText = colours.SecondaryContrastText;
        palette.Info = colours.Info;
        palette.Success = colours.Success;
        palette.Warning = colours.Warning;
        palette.Error = colours.Error;
        palette.TextPrimary = colours.TextPrimary;
        palette.TextSecondary = colours.TextSecondary;
        palette.Background = colours.Background;
        palette.Surface = colours.Surface;
        palette.AppbarBackground = colours.AppbarBackground;
        palette.AppbarText = colours.AppbarText;
        palette.DrawerBackground = colours.DrawerBackground;
        palette.DrawerText = colours.DrawerText;
        palette.DrawerIcon = colours.DrawerText;
        palette.LinesDefault = colours.LinesDefault;
        palette.TableLines = colours.LinesDefault;
        palette.Divider = colours.LinesDefault;
        return palette;
    }

    private sealed record BrandFile(
        string Name,
        string Logo,
        string[] FontFamily,
        [property: JsonPropertyName("light")] BrandPalette Light,
        [property: JsonPropertyName("dark")] BrandPalette Dark);

    private sealed record BrandPalette(
        string Primary, string PrimaryContrastText, string Secondary, string SecondaryContrastText,
        string Info, string Success, string Warning, string Error,
        string TextPrimary, string TextSecondary, string Background, string Surface,
        string AppbarBackground, string AppbarText, string DrawerBackground, string DrawerText, string LinesDefault);
}
