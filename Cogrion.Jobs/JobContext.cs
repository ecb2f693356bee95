namespace Cogrion.Jobs;

/// <summary>What a handler gets besides its arguments: who it is, when to stop, and where to write its log.</summary>
public sealed class JobContext
{
    private readonly JobLogWriter log;

    internal JobContext(ClaimedJob job, string workerId, JobLogWriter log, CancellationToken cancellationToken)
    {
        JobId = job.Id;
        Kind = job.Kind;
        Attempt = job.Attempt;
        MaxAttempts = job.MaxAttempts;
        TenantId = job.TenantId;
        WorkerId = workerId;
        CancellationToken = cancellationToken;
        this.log = log;
    }

    public long JobId { get; }
    public string Kind { get; }

    /// <summary>1 for the first attempt.</summary>
    public int Attempt { get; }
    public int MaxAttempts { get; }
    public Guid? TenantId { get; }
    public string WorkerId { get; }

    /// <summary>Fires when an operator cancels the job or the replica shuts down. Pass it to every I/O call.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Appends one line to the job's log: stored, and streamed live to anyone watching the job.
    /// Never write secret values; known secrets of the host are masked as a last line of defence.
    /// </summary>
    public Task AppendLogAsync(string line) => log.AppendAsync(JobId, Attempt, WorkerId, line, CancellationToken.None);
}
