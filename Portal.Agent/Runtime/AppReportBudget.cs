using Microsoft.Extensions.Options;

namespace Cogrion.Agent.Runtime;

/// <summary>
/// The change reports' token bucket (ADR 0128), kept as the generic cell rate algorithm keeps one: a single "theoretical
/// arrival time" instead of a token count, so there is no refill timer and no rounding. Each report moves it one
/// <see cref="AppReportOptions.Spacing"/> on from itself or from now, whichever is later; a report may go while it is at most
/// <c>Burst - 1</c> spacings ahead of now. Hence <c>Burst</c> reports back to back after a quiet spell, then one per spacing,
/// and never more than <see cref="AppReportOptions.PerMinute"/> in any 60 seconds (<c>Burst</c> + 60 s / spacing).
/// Used by the heartbeat loop alone, so it is not thread-safe.
/// </summary>
public sealed class AppReportBudget
{
    private readonly TimeProvider time;
    private readonly TimeSpan spacing;
    private readonly TimeSpan tolerance;
    private readonly long origin;
    private TimeSpan arrival;

    public AppReportBudget(IOptions<AgentOptions> options, TimeProvider time)
    {
        this.time = time;
        spacing = options.Value.AppReports.Spacing;
        tolerance = spacing * (options.Value.AppReports.Burst - 1);
        origin = time.GetTimestamp();
    }

    /// <summary>How long until a report may go; zero when one may go now.</summary>
    public TimeSpan Wait
    {
        get
        {
            var earliest = arrival - tolerance;
            var now = Now;
            return earliest > now ? earliest - now : TimeSpan.Zero;
        }
    }

    /// <summary>Takes a report's token; false (and nothing taken) when <see cref="Wait"/> is not over.</summary>
    public bool TryTake()
    {
        var now = Now;
        if (arrival - tolerance > now) return false;
        arrival = (arrival > now ? arrival : now) + spacing;
        return true;
    }

    private TimeSpan Now => time.GetElapsedTime(origin);
}
