using Cogrion.Jobs;
using Cogrion.Jobs.Diagnostics;
using Cogrion.Portal.Infrastructure.Audit;
using Npgsql;

namespace Cogrion.Portal.Features.Jobs;

/// <summary>What an action did, in words for the page's notification.</summary>
public sealed record JobActionResult(bool Done, string Message);

/// <summary>
/// The console's changes to jobs: cancel, retry, delete and enqueueing a diagnostic job. Each one
/// writes its audit event in the same transaction as the change.
/// </summary>
public sealed class JobConsoleActions(NpgsqlDataSource dataSource, JobControl control, JobQueue queue, JobKindRegistry kinds, AuditLog audit)
{
    public Task<JobActionResult> CancelAsync(Actor actor, long jobId, CancellationToken cancellationToken) =>
        ChangeAsync(actor, jobId, "job.cancel_requested", (tx, ct) => control.RequestCancelAsync(tx, jobId, ct),
            r => r.State == JobStates.Cancelled ? $"Job {jobId} was cancelled before it started."
                : $"Job {jobId} was asked to stop; its worker stops it within a second or two.",
            $"Job {jobId} is not queued or running any more: there is nothing to cancel.", cancellationToken);

    public Task<JobActionResult> RetryAsync(Actor actor, long jobId, CancellationToken cancellationToken) =>
        ChangeAsync(actor, jobId, "job.retried", async (tx, ct) =>
            {
                var kind = await KindOfAsync(tx, jobId, ct);
                var attempts = kind is null ? JobPolicy.Default.MaxAttempts : kinds.PolicyOf(kind)?.MaxAttempts ?? JobPolicy.Default.MaxAttempts;
                return await control.RetryAsync(tx, jobId, attempts, ct);
            },
            _ => $"Job {jobId} is queued again.",
            $"Job {jobId} can only be retried once it has failed or was cancelled.", cancellationToken);

    public Task<JobActionResult> DeleteAsync(Actor actor, long jobId, CancellationToken cancellationToken) =>
        ChangeAsync(actor, jobId, "job.deleted", (tx, ct) => control.DeleteAsync(tx, jobId, ct),
            _ => $"Job {jobId} was deleted with its attempts and log.",
            $"Job {jobId} is running (cancel it first) or no longer exists.", cancellationToken);

    /// <summary>Enqueues the built-in diagnostic job for an operator.</summary>
    public async Task<long> EnqueueDiagnosticAsync(Actor actor, DiagnosticEchoJob job, int maxAttempts, CancellationToken cancellationToken)
    {
        if (job.Validate() is { Count: > 0 } problems) throw new JobArgumentsException(string.Join(" ", problems));
        if (maxAttempts is < 1 or > 10) throw new JobArgumentsException("Attempts must be between 1 and 10.");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var id = await queue.EnqueueAsync(transaction, job, new EnqueueOptions { CreatedBy = actor.Label, MaxAttempts = maxAttempts },
            cancellationToken);
        await audit.RecordAsync(new AuditEntry(actor, "job.enqueued", null, "job", id.ToString(),
            new { kind = DiagnosticEchoJob.Kind, job.Seconds, job.FailFirstAttempts, maxAttempts }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return id;
    }

    private static async Task<string?> KindOfAsync(NpgsqlTransaction transaction, long jobId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select kind from jobs where id = @id", transaction.Connection, transaction);
        command.Parameters.AddWithValue("id", jobId);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private async Task<JobActionResult> ChangeAsync(
        Actor actor, long jobId, string action,
        Func<NpgsqlTransaction, CancellationToken, Task<JobControlResult?>> change,
        Func<JobControlResult, string> success, string refusal, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await change(transaction, cancellationToken);
        if (result is null) return new JobActionResult(false, refusal);
        await audit.RecordAsync(new AuditEntry(actor, action, result.TenantId, "job", jobId.ToString(),
            new { kind = result.Kind, state = result.State }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new JobActionResult(true, success(result));
    }
}
