namespace Cogrion.Portal.Infrastructure.Jobs.Recurring;

/// <summary>When a recurring job runs: every fixed interval, or on a cron expression (UTC).</summary>
public abstract record JobSchedule
{
    public static JobSchedule Every(TimeSpan interval) =>
        interval >= TimeSpan.FromSeconds(1) ? new Interval(interval) : throw new ArgumentOutOfRangeException(nameof(interval), "At least one second.");

    public static JobSchedule Cron(string expression) => new CronSchedule(CronExpression.Parse(expression));

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

    private sealed record CronSchedule(CronExpression Expression) : JobSchedule
    {
        public override DateTimeOffset FirstRun(DateTimeOffset now) => Expression.NextAfter(now);
        public override DateTimeOffset NextAfter(DateTimeOffset now) => Expression.NextAfter(now);
        public override string Describe() => $"cron {Expression.Text}";
    }
}
