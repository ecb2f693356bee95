using System.Globalization;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>How a run's stage timings read: durations in words, bar widths in per cent of the longest stage.</summary>
public static class StageTimingFormat
{
    // At least a sliver, so a 20 ms stage is still visible next to a 20-minute apply.
    public static string Width(long durationMs, long longest) =>
        Math.Max(1.0, 100.0 * durationMs / Math.Max(1, longest)).ToString("0.#", CultureInfo.InvariantCulture);

    public static string Duration(long ms) => ms switch
    {
        < 1000 => $"{ms} ms",
        < 60_000 => string.Create(CultureInfo.InvariantCulture, $"{ms / 1000.0:0.0} s"),
        _ => $"{ms / 60_000} min {ms % 60_000 / 1000} s",
    };
}
