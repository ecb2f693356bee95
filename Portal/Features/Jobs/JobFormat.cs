namespace Cogrion.Portal.Features.Jobs;

/// <summary>How the console writes times and durations.</summary>
public static class JobFormat
{
    public static string Time(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") : "—";

    public static string Duration(DateTimeOffset? start, DateTimeOffset? end, DateTimeOffset now)
    {
        if (start is not { } s) return "—";
        var d = (end ?? now) - s;
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        return d.TotalSeconds < 1 ? $"{d.TotalMilliseconds:0} ms"
            : d.TotalMinutes < 1 ? $"{d.TotalSeconds:0.#} s"
            : d.TotalHours < 1 ? $"{(int)d.TotalMinutes} min {d.Seconds} s"
            : $"{(int)d.TotalHours} h {d.Minutes} min";
    }

    public static string Short(string? text, int length = 90) =>
        text is null ? "" : text.Length <= length ? text : text[..length] + "…";
}
