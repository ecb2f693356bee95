using System.Globalization;

namespace Cogrion.Portal.Infrastructure.Jobs.Recurring;

/// <summary>
/// A classic five-field cron expression (minute hour day-of-month month day-of-week), in UTC.
/// Fields take <c>*</c>, numbers, ranges <c>a-b</c>, steps <c>*/n</c> or <c>a-b/n</c>, and lists.
/// Day-of-week is 0–7 with 0 and 7 both Sunday. As in cron, when both day fields are restricted a
/// day matching either one counts. No package on our feed offers this, and this much is enough
/// for schedules written in code.
/// </summary>
public sealed class CronExpression
{
    private readonly bool[] minutes, hours, days, months, weekdays;
    private readonly bool dayRestricted, weekdayRestricted;

    public string Text { get; }

    private CronExpression(string text, bool[] minutes, bool[] hours, bool[] days, bool[] months, bool[] weekdays, bool dayRestricted, bool weekdayRestricted)
    {
        Text = text;
        (this.minutes, this.hours, this.days, this.months, this.weekdays) = (minutes, hours, days, months, weekdays);
        (this.dayRestricted, this.weekdayRestricted) = (dayRestricted, weekdayRestricted);
    }

    public static CronExpression Parse(string text)
    {
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length != 5)
            throw new FormatException($"A cron expression has five fields (minute hour day month weekday); '{text}' has {fields.Length}.");
        var weekdays = ParseField(fields[4], 0, 7, "day of week");
        if (weekdays[7]) weekdays[0] = true;
        return new CronExpression(text,
            ParseField(fields[0], 0, 59, "minute"), ParseField(fields[1], 0, 23, "hour"),
            ParseField(fields[2], 1, 31, "day of month"), ParseField(fields[3], 1, 12, "month"),
            weekdays[..7], fields[2] != "*", fields[4] != "*");
    }

    /// <summary>The first matching minute strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset after)
    {
        var t = new DateTime(after.UtcDateTime.Ticks - after.UtcDateTime.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc).AddMinutes(1);
        // Four years cover every combination that can match at all (29 February included).
        var limit = t.AddYears(4);
        while (t < limit)
        {
            if (!months[t.Month]) { t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1); continue; }
            if (!DayMatches(t)) { t = t.Date.AddDays(1); continue; }
            if (!hours[t.Hour]) { t = t.Date.AddHours(t.Hour + 1); continue; }
            if (!minutes[t.Minute]) { t = t.AddMinutes(1); continue; }
            return new DateTimeOffset(t);
        }
        throw new InvalidOperationException($"The cron expression '{Text}' never matches.");
    }

    private bool DayMatches(DateTime t)
    {
        var day = days[t.Day];
        var weekday = weekdays[(int)t.DayOfWeek];
        return dayRestricted && weekdayRestricted ? day || weekday : day && weekday;
    }

    private static bool[] ParseField(string field, int min, int max, string name)
    {
        var allowed = new bool[max + 1];
        foreach (var part in field.Split(','))
        {
            var (range, step) = part.Split('/') switch
            {
                [var r] => (r, 1),
                [var r, var s] when int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 => (r, n),
                _ => throw new FormatException($"'{part}' is not a valid {name} ({min}-{max})."),
            };
            int from, to;
            if (range == "*") (from, to) = (min, max);
            else if (range.Split('-') is [var a, var b]) (from, to) = (Number(a), Number(b));
            else (from, to) = (Number(range), step > 1 ? max : Number(range));
            if (from > to) throw new FormatException($"'{part}' is not a valid {name}: the range runs backwards.");
            for (var v = from; v <= to; v += step) allowed[v] = true;
        }
        return allowed;

        int Number(string s) =>
            int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                ? v
                : throw new FormatException($"'{s}' is not a valid {name} ({min}-{max}).");
    }
}
