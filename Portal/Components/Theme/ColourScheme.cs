namespace Cogrion.Portal.Components.Theme;

/// <summary>Light or dark: the person's choice, or the system's (the default).</summary>
public enum ColourScheme { System, Light, Dark }

/// <summary>Where the choice is remembered: a cookie the browser sends with every page, so the first render already uses it.</summary>
public static class ColourSchemeCookie
{
    public const string Name = "cogrion.colour-scheme";

    public static ColourScheme Parse(string? value) => value switch
    {
        "light" => ColourScheme.Light,
        "dark" => ColourScheme.Dark,
        _ => ColourScheme.System,
    };

    public static string ToValue(ColourScheme scheme) => scheme switch
    {
        ColourScheme.Light => "light",
        ColourScheme.Dark => "dark",
        _ => "system",
    };

    /// <summary>The order the header's button walks through.</summary>
    public static ColourScheme Next(ColourScheme scheme) => scheme switch
    {
        ColourScheme.System => ColourScheme.Dark,
        ColourScheme.Dark => ColourScheme.Light,
        _ => ColourScheme.System,
    };
}
