using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.JSInterop;
using MudBlazor;
using MudBlazor.Services;

namespace Cogrion.Portal.Components.Theme;

/// <summary>
/// The brand theme as one stylesheet, built once at start-up: MudBlazor's CSS variables for the light
/// scheme, the dark scheme (<c>html[data-colour-scheme=dark]</c>) and the system's choice
/// (<c>prefers-color-scheme</c> when the page says <c>system</c>). The browser switches schemes by itself;
/// no circuit holds a theme provider, its 25 KB of generated CSS or its script callbacks (measured with
/// bench/circuits.sh, docs/performance.md).
/// </summary>
public sealed partial class ThemeStylesheet
{
    private ThemeStylesheet(string css)
    {
        Css = css;
        Version = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(css)))[..12].ToLowerInvariant();
    }

    public string Css { get; }

    /// <summary>Changes with the content: the page links <c>theme.css?v=Version</c>, so a browser may keep it for long.</summary>
    public string Version { get; }

    public const string Path = "/theme.css";

    public static ThemeStylesheet Build(BrandTheme brand)
    {
        var light = Render(brand.Theme, dark: false);
        var dark = Render(brand.Theme, dark: true);
        var css = new StringBuilder();
        // The rules around the variables (scrollbars, chart hover) are the same in both schemes.
        css.AppendLine(StyleContents().Replace(RootBlock().Replace(light, ""), "$1").Trim());
        css.Append(":root, html[data-colour-scheme=\"light\"] ").AppendLine(Variables(light));
        css.Append("html[data-colour-scheme=\"dark\"] ").AppendLine(Variables(dark));
        css.Append("@media (prefers-color-scheme: dark) { html[data-colour-scheme=\"system\"] ").Append(Variables(dark)).AppendLine(" }");
        return new ThemeStylesheet(css.ToString());
    }

    private static string Variables(string providerMarkup) =>
        RootBlock().Match(providerMarkup) is { Success: true } match ? match.Groups["block"].Value
            : throw new InvalidOperationException("MudThemeProvider rendered no :root block.");

    // MudThemeProvider renders its rules statically (its script runs only in a live circuit), so the
    // framework's HtmlRenderer gives the exact CSS MudBlazor would write into every page. Once, at start-up.
    private static string Render(MudTheme theme, bool dark) => RenderAsync(theme, dark).GetAwaiter().GetResult();

    private static async Task<string> RenderAsync(MudTheme theme, bool dark)
    {
        // Some of MudBlazor's services can only be disposed asynchronously.
        await using var services = new ServiceCollection().AddLogging().AddMudServices().AddSingleton<IJSRuntime, NoScript>().BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, services.GetRequiredService<ILoggerFactory>());
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<MudThemeProvider>(ParameterView.FromDictionary(new Dictionary<string, object?>
            {
                [nameof(MudThemeProvider.Theme)] = theme,
                [nameof(MudThemeProvider.IsDarkMode)] = dark,
                [nameof(MudThemeProvider.ObserveSystemDarkModeChange)] = false,
            }));
            return output.ToHtmlString();
        });
    }

    [GeneratedRegex(@":root\s*(?<block>\{[^}]*\})", RegexOptions.Singleline)]
    private static partial Regex RootBlock();

    [GeneratedRegex(@"<style[^>]*>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleContents();

    // Static rendering runs no script; the provider's clean-up still says goodbye to it, and nothing reads an answer.
    private sealed class NoScript : IJSRuntime
    {
        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args) => ValueTask.FromResult<TValue>(default!);

        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) =>
            InvokeAsync<TValue>(identifier, args);
    }
}
