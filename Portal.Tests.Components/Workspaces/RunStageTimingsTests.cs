using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;

namespace Cogrion.Portal.Tests.Components.Workspaces;

/// <summary>A run's stage timings: the bars for the eye, the same facts in words for a screen reader.</summary>
public sealed class RunStageTimingsTests : PortalTestContext
{
    private static readonly IReadOnlyList<StageTiming> Timings =
    [
        new("StateBackend", DateTimeOffset.UnixEpoch, 95_000, true),
        new("Plan", DateTimeOffset.UnixEpoch, 4_200, true),
        new("Apply", DateTimeOffset.UnixEpoch, 350, false),
    ];

    [Fact]
    public void Every_stage_is_listed_with_its_duration_in_words_and_the_one_that_did_not_finish_says_so()
    {
        var cut = Render<RunStageTimings>(p => p.Add(t => t.Timings, Timings));

        var items = cut.FindAll("li");
        Assert.Equal(3, items.Count);
        Assert.Contains("State backend", items[0].TextContent);
        Assert.Contains("1 min 35 s", items[0].TextContent);
        Assert.Contains("4.2 s", items[1].TextContent);
        Assert.Contains("350 ms (did not finish)", items[2].TextContent);
        Assert.Contains("portal-stage-failed", items[2].ClassList);
        Assert.Equal("Stage timings", cut.Find($"#{cut.Find("section").GetAttribute("aria-labelledby")}").TextContent.Trim());
    }

    [Fact]
    public void The_bars_are_hidden_from_screen_readers_and_the_longest_stage_fills_its_bar()
    {
        var cut = Render<RunStageTimings>(p => p.Add(t => t.Timings, Timings));

        Assert.All(cut.FindAll(".portal-stage-bar"), bar => Assert.Equal("true", bar.GetAttribute("aria-hidden")));
        Assert.Contains("width: 100%", cut.FindAll(".portal-stage-bar > span")[0].GetAttribute("style"));
    }

    [Fact]
    public void A_run_without_timings_shows_nothing()
    {
        var cut = Render<RunStageTimings>(p => p.Add(t => t.Timings, []));

        Assert.Empty(cut.Markup.Trim());
    }

    [Theory]
    [InlineData(20, 1_200_000, "1")]
    [InlineData(600_000, 1_200_000, "50")]
    public void A_short_stage_keeps_a_visible_sliver(long duration, long longest, string width) =>
        Assert.Equal(width, StageTimingFormat.Width(duration, longest));
}
