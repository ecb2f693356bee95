using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cogrion.Jobs;

/// <summary>
/// Runs one claimed job to the end of its attempt: resolves its handler in a fresh scope, runs it
/// with the job's cancellation, and records the outcome. Never throws: whatever the handler does
/// becomes an outcome (or, on shutdown, is left for the pool to hand back).
/// </summary>
internal sealed class JobRunner(
    IServiceScopeFactory scopes,
    JobKindRegistry registry,
    JobOutcomes outcomes,
    SuccessWriter successes,
    JobLogWriter logWriter,
    JobMetrics metrics,
    IJobSecretRedactor redactor,
    IOptions<JobsOptions> options,
    ILogger<JobRunner> logger)
{
    /// <summary>Database writes of an outcome get this long even during shutdown: losing them costs a whole retry.</summary>
    private static readonly TimeSpan OutcomeWriteTimeout = TimeSpan.FromSeconds(15);

    public async Task RunAsync(RunningJob running, string workerId)
    {
        var job = running.Job;
        var started = Stopwatch.GetTimestamp();
        metrics.Started(job);
        var outcome = "unknown";
        // A span per attempt, exported when traces are; started by hand when nothing listens, so that the
        // job's log lines carry a trace id either way (as a request's do).
        using var activity = JobMetrics.ActivitySource.StartActivity($"job {job.Kind}") ?? new Activity($"job {job.Kind}").Start();
        activity.SetTag("cogrion.job.id", job.Id).SetTag("cogrion.job.kind", job.Kind).SetTag("cogrion.job.attempt", job.Attempt);
        using var logScope = logger.BeginScope(new Dictionary<string,
            object>
        { ["JobId"] = job.Id, ["JobKind"] = job.Kind, ["Attempt"] = job.Attempt });
        var scope = scopes.CreateAsyncScope();
        Task? handler = null;
        try
        {
            var registration = registry.Find(job.Kind)
                ?? throw new JobArgumentsException($"This build has no handler for job kind '{job.Kind}'.");
            var context = new JobContext(job, workerId, logWriter, running.Token);
            using var arguments = JsonDocument.Parse(job.Arguments);
            handler = registration.Invoke(scope.ServiceProvider, arguments.RootElement, context);
            var first = await Task.WhenAny(handler, running.Abandoned);
            if (first == running.Abandoned && !handler.IsCompleted)
            {
                outcome = await AbandonAsync(running, workerId);
                return;
            }
            await handler;
            outcome = await WithWriteTimeout(ct => successes.SucceedAsync(job, workerId, ct)) ? AttemptOutcomes.Succeeded : "lost";
        }
        catch (OperationCanceledException) when (running.StopReason == StopReason.Shutdown)
        {
            // The pool hands the job back to the queue once every runner has stopped.
            outcome = AttemptOutcomes.Released;
        }
        catch (OperationCanceledException) when (running.StopReason == StopReason.CancelledByOperator)
        {
            outcome = await WithWriteTimeout(ct => outcomes.CancelAsync(job, workerId, "Cancelled by an operator.", ct)) ? AttemptOutcomes.Cancelled
                : "lost";
        }
        catch (Exception ex)
        {
            outcome = await RecordFailureAsync(job, workerId, ex);
        }
        finally
        {
            activity.SetTag("cogrion.job.outcome", outcome);
            if (outcome == AttemptOutcomes.Failed) activity.SetStatus(ActivityStatusCode.Error);
            metrics.Finished(job, outcome, JobMetrics.Elapsed(started));
            if (outcome == "lost")
                logger.LogWarning("Job {JobId} attempt {Attempt} finished, but the job was no longer ours (its lease expired and it was " +
                    "reclaimed); the outcome was discarded", job.Id, job.Attempt);
            if (handler is null || handler.IsCompleted) await scope.DisposeAsync();
            else _ = DisposeWhenDoneAsync(handler, scope);
        }
    }

    /// <summary>An abandoned handler still runs: its services stay alive until it ends, and its exception is observed.</summary>
    private async Task DisposeWhenDoneAsync(Task handler, AsyncServiceScope scope)
    {
        try
        {
            await handler;
        }
        catch (Exception ex)
        {
            logger.LogInformation("An abandoned job handler ended with {Error}", ex.GetType().Name);
        }
        await scope.DisposeAsync();
    }

    private async Task<string> RecordFailureAsync(ClaimedJob job, string workerId, Exception ex)
    {
        var policy = registry.Find(job.Kind)?.Policy ?? JobPolicy.Default;
        var delay = RetryBackoff.Delay(policy, job.Attempt);
        // Error texts are shown in the console: the host's own secrets are masked as a last line of defence.
        var error = redactor.Redact($"{ex.GetType().Name}: {ex.Message}");
        var stack = redactor.Redact(ex.ToString());
        var state = await WithWriteTimeout(ct => outcomes.FailAsync(job, workerId, error, stack, delay, ct));
        if (state == JobStates.Queued)
            logger.LogWarning("Job {JobId} ({JobKind}) attempt {Attempt} of {MaxAttempts} failed: {Error}; retrying in {Delay}", job.Id, job.Kind,
                job.Attempt, job.MaxAttempts, error, delay);
        else if (state is not null)
            logger.LogError("Job {JobId} ({JobKind}) failed for good after attempt {Attempt}: {Error}", job.Id, job.Kind, job.Attempt, error);
        return state is null ? "lost" : AttemptOutcomes.Failed;
    }

    private async Task<string> AbandonAsync(RunningJob running, string workerId)
    {
        // On shutdown the pool hands the job back whether or not the handler stopped.
        if (running.StopReason == StopReason.Shutdown) return AttemptOutcomes.Released;
        var grace = options.Value.CancelGracePeriod;
        logger.LogWarning("Job {JobId} ignored its cancellation for {Grace}; abandoning it", running.Job.Id, grace);
        var reason = $"Cancelled by an operator; the handler did not stop within the grace period ({grace.TotalSeconds:0.#} s) and was abandoned.";
        return await WithWriteTimeout(ct => outcomes.CancelAsync(running.Job, workerId, reason, ct)) ? AttemptOutcomes.Cancelled : "lost";
    }

    private static async Task<T> WithWriteTimeout<T>(Func<CancellationToken, Task<T>> write)
    {
        using var timeout = new CancellationTokenSource(OutcomeWriteTimeout);
        return await write(timeout.Token);
    }
}
