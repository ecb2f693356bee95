using Cogrion.Agent;
using Cogrion.Agent.Protocol;
using Cogrion.Agent.Runtime;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// The spacing of the agent's change reports (ADR 0128) and its hold after a 429, on a fake clock: the first reports after a
/// quiet spell go at once, a churning cluster gets one per spacing, and no 60 seconds ever hold more than the stated share of
/// the Portal's per-agent budget.
/// </summary>
public sealed class AppReportSpacingTests
{
    private static AppReportBudget Budget(FakeTimeProvider time, int perMinute = 30, int burst = 10) =>
        new(Options.Create(new AgentOptions { AppReports = new AppReportOptions { PerMinute = perMinute, Burst = burst } }), time);

    [Fact]
    public void The_burst_goes_at_once_then_one_report_per_spacing()
    {
        var time = new FakeTimeProvider();
        var budget = Budget(time);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(TimeSpan.Zero, budget.Wait);
            Assert.True(budget.TryTake(), $"report {i + 1} of the burst");
        }
        Assert.False(budget.TryTake());
        Assert.Equal(TimeSpan.FromSeconds(3), budget.Wait); // (30 - 10) reports spread over the minute.

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(1), budget.Wait);
        Assert.False(budget.TryTake());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(budget.TryTake());
        Assert.False(budget.TryTake());
    }

    [Fact]
    public void A_quiet_spell_refills_the_burst_and_no_more()
    {
        var time = new FakeTimeProvider();
        var budget = Budget(time);
        for (var i = 0; i < 10; i++) Assert.True(budget.TryTake());

        time.Advance(TimeSpan.FromHours(1));
        var immediate = 0;
        while (budget.TryTake()) immediate++;
        Assert.Equal(10, immediate);
    }

    [Theory]
    [InlineData(30, 10, 250)]
    [InlineData(30, 10, 3000)]
    [InlineData(60, 1, 100)]
    [InlineData(11, 10, 700)]
    public void A_greedy_sender_never_gets_more_than_per_minute_into_any_60_seconds(int perMinute, int burst, int stepMs)
    {
        var time = new FakeTimeProvider();
        var budget = Budget(time, perMinute, burst);
        var sent = new List<TimeSpan>();
        var elapsed = TimeSpan.Zero;
        // A change every step for ten minutes, with quiet spells, as a crash-looping pod and a retrying release make them.
        for (var step = 0; elapsed < TimeSpan.FromMinutes(10); step++)
        {
            var pause = step % 400 == 399 ? TimeSpan.FromSeconds(45) : TimeSpan.FromMilliseconds(stepMs);
            time.Advance(pause);
            elapsed += pause;
            if (budget.TryTake()) sent.Add(elapsed);
        }

        for (var i = 0; i < sent.Count; i++)
        {
            var inWindow = sent.Skip(i).TakeWhile(t => t - sent[i] < TimeSpan.FromMinutes(1)).Count();
            Assert.True(inWindow <= perMinute, $"{inWindow} reports in the minute from {sent[i]}; at most {perMinute} allowed");
        }
    }

    [Fact]
    public void Steady_churn_is_throttled_not_starved_one_report_per_spacing()
    {
        var time = new FakeTimeProvider();
        var budget = Budget(time);
        var sent = 0;
        for (var step = 0; step < 6000; step++) // a change every 100 ms for ten minutes
        {
            if (budget.TryTake()) sent++;
            time.Advance(TimeSpan.FromMilliseconds(100));
        }
        Assert.InRange(sent, 10 + 199, 10 + 200); // the burst, then one every 3 s
    }

    [Fact]
    public void A_429_holds_every_call_for_its_retry_after_and_a_later_longer_one_extends_it()
    {
        var time = new FakeTimeProvider();
        var hold = new PortalRetryAfter(time);
        Assert.Equal(TimeSpan.Zero, hold.Remaining);

        hold.Refused(TimeSpan.FromSeconds(20));
        var waiting = hold.WaitAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(5));
        hold.Refused(TimeSpan.FromSeconds(30)); // refused again meanwhile: until 35 s from the start
        hold.Refused(TimeSpan.FromSeconds(1)); // a shorter one does not shorten it
        Assert.Equal(TimeSpan.FromSeconds(30), hold.Remaining);
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.True(waiting.IsCompletedSuccessfully);
        Assert.Equal(TimeSpan.Zero, hold.Remaining);
    }

    [Fact]
    public void A_retry_after_beyond_five_minutes_is_honoured_for_five()
    {
        var time = new FakeTimeProvider();
        var hold = new PortalRetryAfter(time);
        hold.Refused(TimeSpan.FromDays(1));
        Assert.Equal(PortalRetryAfter.Longest, hold.Remaining);
    }

    [Theory]
    [InlineData(30, 10, true)]
    [InlineData(60, 59, true)]
    [InlineData(61, 10, false)] // more than half the Portal's default budget
    [InlineData(10, 10, false)] // no steady pace at all
    [InlineData(30, 0, false)]
    public void The_report_budget_is_validated(int perMinute, int burst, bool valid)
    {
        var options = new AgentOptions
        {
            PortalUrl = "https://portal.example",
            AppReports = new AppReportOptions { PerMinute = perMinute, Burst = burst },
        };
        var result = new AgentOptionsValidator().Validate(null, options);
        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains(result.Failures!, f => f.StartsWith("Agent:AppReports:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_default_reports_take_at_most_a_quarter_of_the_portals_default_budget()
    {
        var reports = new AppReportOptions();
        Assert.Equal(30, reports.PerMinute);
        Assert.True(reports.PerMinute * 4 <= new Cogrion.Portal.Features.Agents.AgentApiOptions().AgentPermitsPerMinute);
    }
}
