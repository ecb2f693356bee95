using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// A run's readable log written to the log of the job that runs it: stored, and streamed to whoever
/// watches (a workspace's run, a cloud account's verification; ADR 0046).
/// </summary>
public sealed class JobRunLog(JobContext context) : IRunLog
{
    public async ValueTask WriteAsync(RunLogLine line, CancellationToken cancellationToken) =>
        await context.AppendLogAsync(line.Level == RunLogLevel.Info ? line.Text : $"[{line.Level.ToDbText()}] {line.Text}");
}
