using Microsoft.Extensions.Options;

namespace Cogrion.Jobs;

/// <summary>How this replica runs background jobs (section <c>Jobs</c>). See docs/jobs.md.</summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>False turns this replica into a pure web front end: it still enqueues, but never claims.</summary>
    public bool RunWorkers { get; set; } = true;

    /// <summary>How many jobs this replica runs at once.</summary>
    public int WorkersPerReplica { get; set; } = 4;

    /// <summary>
    /// The slow fallback poll: NOTIFY wakes workers at once, this only covers a lost notification
    /// (a dropped listener connection), so it can be long and keep an idle replica nearly silent.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a claimed job belongs to its worker without a heartbeat. A dead replica's jobs are reclaimed after this.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a replica renews the leases of the jobs in hand (and reports itself alive). Must be well under the lease.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often each replica looks for jobs whose lease expired.</summary>
    public TimeSpan ReaperInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A cancelled job that ignores its CancellationToken is abandoned (marked cancelled, slot freed) after this.</summary>
    public TimeSpan CancelGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>On shutdown, running jobs may finish within this; the rest are handed back to other replicas.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Finished jobs, their logs and attempts are deleted after this (by the daily jobs.prune job).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(14);
}

internal sealed class JobsOptionsValidator : IValidateOptions<JobsOptions>
{
    public ValidateOptionsResult Validate(string? name, JobsOptions options)
    {
        var errors = new List<string>();
        if (options.WorkersPerReplica is < 1 or > 256)
            Add(errors, nameof(options.WorkersPerReplica), $"must be between 1 and 256; it is {options.WorkersPerReplica}.");
        RequireBetween(errors, nameof(options.PollInterval), options.PollInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        RequireBetween(errors, nameof(options.LeaseDuration), options.LeaseDuration, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        RequireBetween(errors, nameof(options.HeartbeatInterval), options.HeartbeatInterval, TimeSpan.FromMilliseconds(100),
            TimeSpan.FromMinutes(20));
        RequireBetween(errors, nameof(options.ReaperInterval), options.ReaperInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        RequireBetween(errors, nameof(options.CancelGracePeriod), options.CancelGracePeriod, TimeSpan.Zero, TimeSpan.FromHours(1));
        RequireBetween(errors, nameof(options.ShutdownGracePeriod), options.ShutdownGracePeriod, TimeSpan.Zero, TimeSpan.FromHours(1));
        RequireBetween(errors, nameof(options.Retention), options.Retention, TimeSpan.FromHours(1), TimeSpan.FromDays(3650));
        // Two missed heartbeats in a row must not be enough to lose a healthy job.
        if (options.HeartbeatInterval * 2 >= options.LeaseDuration)
            Add(errors, nameof(options.HeartbeatInterval),
                $"must be less than half of LeaseDuration ({options.LeaseDuration}), so one late heartbeat does not lose a healthy job; it is " +
                $"{options.HeartbeatInterval}.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>One line per problem, named as in configuration ("Jobs:LeaseDuration must be …"), like the host's own options.</summary>
    private static void Add(List<string> errors, string key, string problem) => errors.Add($"{JobsOptions.Section}:{key} {problem}");

    private static void RequireBetween(List<string> errors, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max) Add(errors, key, $"must be between {min} and {max}; it is {value}.");
    }
}
