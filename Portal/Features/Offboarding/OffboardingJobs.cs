using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>One step of one offboarding. Ids only: nothing secret.</summary>
public sealed record OffboardingStepJob(Guid OffboardingId, OffboardingStep Step) : IJobArguments
{
    public static string Kind => "offboarding.step";

    // A step that fails (the database went away, a replica died) is tried again; every step is idempotent.
    public static JobPolicy Policy => new(10, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5));
}

/// <summary>What a step came to: finished (the next step is enqueued), or waiting for something outside (the same step runs again later).</summary>
public sealed record StepOutcome(StepReport Report, TimeSpan? WaitFor)
{
    public static StepOutcome Finished(IReadOnlyList<string> done, IReadOnlyList<string>? leftToTenant = null) =>
        new(new StepReport(null, done, leftToTenant ?? []), null);

    public static StepOutcome Waiting(IReadOnlyList<string> done, TimeSpan waitFor) => new(StepReport.Waiting(done), waitFor);
}

/// <summary>One step's work. Idempotent: it may run again after a crash, after it already did part or all of its work.</summary>
public interface IOffboardingStep
{
    OffboardingStep Step { get; }

    Task<StepOutcome> RunAsync(OffboardingRecord offboarding, OffboardingPlan plan, Actor actor, JobContext context);

    /// <summary>The rows whose change should wake this step when it waits (<see cref="StepWakeups"/>); none for a step that never waits.</summary>
    IEnumerable<WakeSubject> WakesOn(OffboardingPlan plan) => [];
}

public static class OffboardingJobs
{
    internal static Task<long> EnqueueAsync(JobQueue queue, NpgsqlTransaction transaction, Guid offboardingId, Guid tenantId, OffboardingStep step,
        DateTimeOffset? runAfter, CancellationToken cancellationToken) =>
        queue.EnqueueAsync(transaction, new OffboardingStepJob(offboardingId, step), new EnqueueOptions
        {
            CreatedBy = "system:offboarding",
            TenantId = tenantId,
            // One step of one offboarding at a time, whatever the number of workers and replicas.
            ConcurrencyKey = ConcurrencyKey(offboardingId),
            RunAfter = runAfter,
        }, cancellationToken);

    /// <summary>One step of one offboarding at a time: every step job of an offboarding shares this key.</summary>
    internal static string ConcurrencyKey(Guid offboardingId) => $"offboarding:{offboardingId}";

    /// <summary>The person who started it acts in every step: the audit trail says who removed what.</summary>
    public static Actor ActorOf(OffboardingRecord offboarding) =>
        offboarding.RequestedBy is { } user ? Actor.User(user, offboarding.RequestedByName) : Actor.System("offboarding");
}

/// <summary>
/// Runs the step a job names, if the offboarding is still at that step (a duplicate or late job does nothing), then records the step's
/// report and moves on in one transaction with the next step's job: a crash before the commit runs the step again (idempotent), a crash
/// after it has nothing left to redo.
/// </summary>
public sealed class OffboardingStepHandler(
    NpgsqlDataSource dataSource,
    IEnumerable<IOffboardingStep> steps,
    JobQueue queue,
    StepWakeups wakeups,
    AuditLog audit,
    TimeProvider time,
    ILogger<OffboardingStepHandler> logger) : IJobHandler<OffboardingStepJob>
{
    public async Task RunAsync(OffboardingStepJob arguments, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        var offboarding = await OffboardingStore.FindAsync(arguments.OffboardingId, dataSource, cancellationToken);
        if (offboarding is null || offboarding.Step != arguments.Step || offboarding.Plan is null
            || offboarding.Status is OffboardingStatus.Purged or OffboardingStatus.Failed)
        {
            await context.AppendLogAsync($"Offboarding {arguments.OffboardingId} is not at step {arguments.Step}: nothing to do.");
            return;
        }
        var step = steps.Single(s => s.Step == arguments.Step);
        var actor = OffboardingJobs.ActorOf(offboarding);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["OffboardingId"] = offboarding.Id, ["Step"] = arguments.Step });
        // Listening before the step looks: what changes while it looks wakes its next run.
        var wakeup = wakeups.Listen(offboarding.Id, step.WakesOn(offboarding.Plan));
        var armed = false;
        StepOutcome outcome;
        try
        {
            try
            {
                outcome = await step.RunAsync(offboarding, offboarding.Plan, actor, context);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await RecordErrorAsync(offboarding.Id, $"{arguments.Step}: {ex.Message}", cancellationToken);
                throw;
            }
            await RecordAsync(offboarding, arguments.Step, outcome, actor, cancellationToken);
            if (outcome.WaitFor is { } interval)
            {
                wakeup.Arm(interval);
                armed = true;
            }
        }
        finally
        {
            if (!armed) wakeup.Dispose();
        }
        foreach (var line in outcome.Report.Done.Concat(outcome.Report.LeftToTenant)) await context.AppendLogAsync(line);
    }

    private async Task RecordAsync(OffboardingRecord offboarding, OffboardingStep step, StepOutcome outcome, Actor actor,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await OffboardingStore.FindAsync(connection, transaction, offboarding.Id, cancellationToken, forUpdate: true);
        if (current is null || current.Step != step) return;

        var finished = outcome.WaitFor is null;
        var report = finished ? outcome.Report with { FinishedAt = now } : outcome.Report;
        var next = finished ? (OffboardingStep)((int)step + 1) : step;
        // Waiting for the purge is a state of the offboarding only once the certificate step is recorded as done, in the
        // same transaction: whoever sees "awaiting purge" also sees every step before it completed and audited.
        var awaitingPurge = finished && step == OffboardingStep.Certificate;
        await connection.ExecuteAsync(new CommandDefinition("""
            update offboardings
            set progress = jsonb_set(progress, array[@stepKey], @report::jsonb), step = @next, last_error = null,
                status = case when @awaitingPurge then 'awaiting_purge' else status end,
                finished_at = case when @awaitingPurge then @now else finished_at end
            where id = @id
            """,
            new
            {
                id = offboarding.Id,
                stepKey = step.ToString(),
                report = OffboardingStore.ToJson(report),
                next = next.ToDbText(),
                awaitingPurge,
                now
            },
            transaction, cancellationToken: cancellationToken));
        if (finished && step != OffboardingStep.Purge)
        {
            // The purge step removes the tenant's chain: its event goes to the platform chain, written by the purge itself.
            await audit.RecordAsync(new AuditEntry(actor, "offboarding.step_completed", offboarding.TenantId, "offboarding",
                offboarding.Id.ToString(),
                new { step = step.ToDbText(), done = report.Done.Count, left_to_tenant = report.LeftToTenant.Count }), transaction,
                    cancellationToken);
        }
        if (next != OffboardingStep.Done)
        {
            var runAfter = !finished ? now + outcome.WaitFor!.Value
                : next == OffboardingStep.Purge ? await PurgeAfterAsync(connection, transaction, offboarding.Id, cancellationToken)
                : (DateTimeOffset?)null;
            var job = await OffboardingJobs.EnqueueAsync(queue, transaction, offboarding.Id, offboarding.TenantId, next, runAfter, cancellationToken);
            if (finished && next == OffboardingStep.Purge)
                await connection.ExecuteAsync(new CommandDefinition("update offboardings set purge_job_id = @job where id = @id",
                    new { job, id = offboarding.Id }, transaction, cancellationToken: cancellationToken));
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private static Task<DateTimeOffset?> PurgeAfterAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id,
        CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<DateTimeOffset?>(new CommandDefinition("select purge_after from offboardings where id = @id",
            new { id }, transaction, cancellationToken: cancellationToken));

    private async Task RecordErrorAsync(Guid id, string error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("update offboardings set last_error = @error where id = @id",
            new { id, error }, cancellationToken: cancellationToken));
    }
}
