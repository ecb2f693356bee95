namespace Cogrion.Jobs;

/// <summary>
/// The states of a job, as stored in <c>jobs.state</c>. A job is <see cref="Queued"/> until a worker
/// claims it, <see cref="Running"/> while a worker holds its lease, and ends in one of the three
/// final states. A failed attempt with attempts left goes back to <see cref="Queued"/>.
/// </summary>
public static class JobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Queued, Running, Succeeded, Failed, Cancelled];

    public static bool IsFinal(string state) => state is Succeeded or Failed or Cancelled;
}

/// <summary>How one attempt ended (<c>job_attempts.outcome</c>).</summary>
public static class AttemptOutcomes
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    /// <summary>The worker stopped renewing its lease (process died or froze); the reaper ended the attempt.</summary>
    public const string LeaseExpired = "lease_expired";
    /// <summary>The replica shut down before the job finished and handed it back; does not count as a failure.</summary>
    public const string Released = "released";
}

/// <summary>A job as a worker claimed it.</summary>
internal sealed record ClaimedJob(
    long Id,
    string Kind,
    string Arguments,
    Guid? TenantId,
    int Attempt,
    int MaxAttempts,
    string? ConcurrencyKey,
    DateTimeOffset CreatedAt,
    DateTimeOffset RunAfter,
    DateTimeOffset StartedAt);
