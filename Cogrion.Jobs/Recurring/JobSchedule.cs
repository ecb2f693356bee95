using Cronos;

namespace Cogrion.Jobs.Recurring;

/// <summary>
/// When a recurring job runs: every fixed interval, or on a classic five-field cron expression
/// (minute hour day-of-month month day-of-week) in UTC, read by Cronos.
/// </summary>
public abstract record JobSchedule
{
    public static JobSchedule Every(TimeSpan interval) =>
        interval >= TimeSpan.FromSeconds(1) ? new Interval(interval)
            : throw new ArgumentOutOfRangeException(nameof(interval), "At least one second.");

    /// <summary>A cron schedule; a malformed expression throws <see cref="FormatException"/> with the reason.</summary>
    public static JobSchedule Cron(string expression)
    {
        try
        {
            return new CronSchedule(expression, CronExpression.Parse(expression, CronFormat.Standard));
        }
        catch (CronFormatException ex)
        {
            throw new FormatException($"'{expression}' is not a valid cron expression (minute hour day month weekday): {ex.Message}", ex);
        }
    }

    /// <summary>The first run for a definition the database has not seen yet.</summary>
    public abstract DateTimeOffset FirstRun(DateTimeOffset now);

    /// <summary>The run after one that was due; missed runs are not caught up (one run, then back on the beat).</summary>
    public abstract DateTimeOffset NextAfter(DateTimeOffset now);

    /// <summary>Stored with the definition: a changed schedule resets the next run.</summary>
    public abstract string Describe();

    private sealed record Interval(TimeSpan Period) : JobSchedule
    {
        public override DateTimeOffset FirstRun(DateTimeOffset now) => now;
        public override DateTimeOffset NextAfter(DateTimeOffset now) => now + Period;
        public override string Describe() => $"every {Period:c}";
    }

    private sealed record CronSchedule(string Text, CronExpression Expression) : JobSchedule
    {
        public override DateTimeOffset FirstRun(DateTimeOffset now) => NextAfter(now);

        /// <summary>The first matching minute strictly after <paramref name="now"/>.</summary>
        public override DateTimeOffset NextAfter(DateTimeOffset now) =>
            Expression.GetNextOccurrence(now, TimeZoneInfo.Utc)
                ?? throw new InvalidOperationException($"The cron expression '{Text}' never matches.");

        // Stored as written: a schedule whose text is unchanged keeps its next run.
        public override string Describe() => $"cron {Text}";
    }
}
