using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.JSInterop;
using Cogrion.Portal.Components.Controls;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;

namespace Cogrion.Portal.Tests.Components;

/// <summary>Markup of the shared controls, rendered with the framework's HtmlRenderer (no browser needed).</summary>
public sealed class ComponentMarkupTests
{
    private static async Task<string> RenderAsync<TComponent>(Dictionary<string, object?> parameters) where TComponent : IComponent
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IJSRuntime, NoJavaScript>()
            .AddSingleton<NavigationManager, StaticNavigationManager>()
            .BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, services.GetRequiredService<ILoggerFactory>());
        return await renderer.Dispatcher.InvokeAsync(async () =>
            (await renderer.RenderComponentAsync<TComponent>(ParameterView.FromDictionary(parameters))).ToHtmlString());
    }

    /// <summary>Static rendering has no browser: like server prerendering, any JS call is an error.</summary>
    private sealed class NoJavaScript : IJSRuntime
    {
        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args) =>
            throw new InvalidOperationException($"JavaScript is not available during static rendering ({identifier}).");

        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) =>
            InvokeAsync<TValue>(identifier, args);
    }

    private sealed class StaticNavigationManager : NavigationManager
    {
        public StaticNavigationManager() => Initialize("http://portal.test/", "http://portal.test/dashboard");
    }

    [Fact]
    public async Task An_empty_state_is_a_labelled_section_that_says_what_to_do_next()
    {
        RenderFragment body = b => b.AddContent(0, "Connect a cloud account first.");

        var html = await RenderAsync<EmptyState>(new() { ["Title"] = "No workspaces yet", ["Icon"] = "cloud", ["ChildContent"] = body });

        Assert.Matches("<section class=\"portal-empty-state\" aria-labelledby=\"(empty-[0-9a-f]+)\">", html);
        var id = System.Text.RegularExpressions.Regex.Match(html, "aria-labelledby=\"(empty-[0-9a-f]+)\"").Groups[1].Value;
        Assert.Contains($"id=\"{id}\"", html);
        Assert.Contains("No workspaces yet", html);
        Assert.Contains("Connect a cloud account first.", html);
        Assert.Contains("aria-hidden=\"true\"", html);
    }

    [Fact]
    public async Task The_access_denied_notice_is_an_alert_with_a_way_back()
    {
        var html = await RenderAsync<AccessDeniedNotice>([]);

        Assert.Contains("role=\"alert\"", html);
        Assert.Contains("Access denied", html);
        Assert.Contains("href=\"dashboard\"", html);
    }

    [Fact]
    public async Task A_page_heading_is_the_pages_h1()
    {
        var html = await RenderAsync<PageHeading>(new() { ["Title"] = "Audit", ["Subtitle"] = "Every change." });

        Assert.Matches("<h1[^>]*>Audit</h1>", html);
        Assert.Contains("Every change.", html);
    }

    [Fact]
    public async Task Stage_timings_list_every_stage_with_its_duration_in_words_and_mark_the_one_that_did_not_finish()
    {
        IReadOnlyList<StageTiming> timings =
        [
            new("StateBackend", DateTimeOffset.UnixEpoch, 95_000, true),
            new("Plan", DateTimeOffset.UnixEpoch, 4_200, true),
            new("Apply", DateTimeOffset.UnixEpoch, 350, false),
        ];

        var html = await RenderAsync<RunStageTimings>(new() { ["Timings"] = timings });

        Assert.Contains("State backend", html);
        Assert.Contains("1 min 35 s", html);
        Assert.Contains("4.2 s", html);
        Assert.Contains("350 ms (did not finish)", html);
        Assert.Contains("portal-stage-failed", html);
        Assert.Contains("width: 100%", html);
        Assert.Contains("aria-hidden=\"true\"", html);
    }
}
