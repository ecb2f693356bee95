using System.Text.Json;
using Dapper;
using Npgsql;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>
/// Every change of a run and of its workspace's status, each in one transaction with its audit
/// event. The SQL of the run lifecycle lives here; the handlers decide, the ledger writes.
/// </summary>
public sealed class RunLedger(NpgsqlDataSource dataSource, AuditLog audit)
{
    /// <summary>
    /// Inserts a queued run and its plan job, inside the caller's transaction (the workspace change
    /// that asked for it commits with it, or neither exists).
    /// </summary>
    public static async Task<(Guid RunId, long JobId)> StartRunAsync(
        NpgsqlTransaction transaction, JobQueue queue, AuditLog audit, Workspace workspace, RunKind kind, Actor actor, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var runId = Guid.CreateVersion7();
        var requestedBy = JobQueue.Describe(actor);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into workspace_runs (id, tenant_id, workspace_id, kind, status, requested_by)
            values (@runId, @tenantId, @workspaceId, @kind, 'queued', @requestedBy)
            """, new { runId, tenantId = workspace.TenantId, workspaceId = workspace.Id, kind = kind.ToString().ToLowerInvariant(), requestedBy },
            transaction, cancellationToken: cancellationToken));
        var jobId = await queue.EnqueueAsync(transaction, new WorkspacePlanJob(workspace.TenantId, workspace.Id, runId), new EnqueueOptions
        {
            CreatedBy = actor,
            TenantId = workspace.TenantId,
            ConcurrencyKey = WorkspaceConcurrency.Key(workspace.Id),
        }, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "update workspace_runs set plan_job_id = @jobId where tenant_id = @tenantId and id = @runId",
            new { jobId, tenantId = workspace.TenantId, runId }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "workspace.run_queued", workspace.TenantId, "workspace", workspace.Id.ToString(),
            new { workspace = workspace.Name, run = runId, kind = kind.ToString().ToLowerInvariant(), job = jobId }), transaction, cancellationToken);
        return (runId, jobId);
    }

    /// <summary>The run enters a stage of its lifecycle; the workspace's status follows when given.</summary>
    public Task MoveAsync(Guid tenantId, Guid workspaceId, Guid runId, string runStatus, WorkspaceStatus? workspaceStatus, string action, object details, CancellationToken cancellationToken) =>
        InTransactionAsync(tenantId, workspaceId, action, details, cancellationToken, async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "update workspace_runs set status = @runStatus where tenant_id = @tenantId and id = @runId",
                new { runStatus, tenantId, runId }, transaction, cancellationToken: cancellationToken));
            if (workspaceStatus is { } status) await SetWorkspaceAsync(connection, transaction, tenantId, workspaceId, status, null, cancellationToken);
        });

    /// <summary>Keeps the plan's summary and timings; moves the run on to <paramref name="runStatus"/>.</summary>
    public Task RecordPlanAsync(Guid tenantId, Guid workspaceId, Guid runId, TofuRunResult plan, string runStatus, WorkspaceStatus workspaceStatus, string? reason, CancellationToken cancellationToken) =>
        InTransactionAsync(tenantId, workspaceId, "workspace.planned", new { run = runId, plan = plan.Plan?.Headline, next = runStatus }, cancellationToken, async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                update workspace_runs set status = @runStatus, stage = @stage, plan_summary = @summary::jsonb, stage_timings = @timings::jsonb
                where tenant_id = @tenantId and id = @runId
                """, new { runStatus, stage = plan.Stage.ToString(), summary = SummaryJson(plan.Plan), timings = TimingsJson(plan.Timings), tenantId, runId },
                transaction, cancellationToken: cancellationToken));
            await SetWorkspaceAsync(connection, transaction, tenantId, workspaceId, workspaceStatus, reason, cancellationToken);
        });

    /// <summary>Ends a run: succeeded, failed or cancelled, with where it stopped and what that means.</summary>
    public Task FinishAsync(Guid tenantId, Guid workspaceId, Guid runId, string runStatus, TofuRunResult? result, WorkspaceStatus workspaceStatus,
        string? workspaceReason, IReadOnlyDictionary<string, string>? outputs, CancellationToken cancellationToken) =>
        InTransactionAsync(tenantId, workspaceId, "workspace.run_" + runStatus,
            new { run = runId, stage = result?.Stage.ToString(), error = result?.Error, status = workspaceStatus.ToKey() }, cancellationToken, async (connection, transaction) =>
        {
            // Timings accumulate across the plan job and the apply job of one run.
            await connection.ExecuteAsync(new CommandDefinition("""
                update workspace_runs set status = @runStatus, stage = coalesce(@stage, stage), error = @error, workspace_state = @workspaceState,
                       stage_timings = stage_timings || @timings::jsonb, finished_at = now()
                where tenant_id = @tenantId and id = @runId
                """, new
                {
                    runStatus, stage = result?.Stage.ToString(), error = result?.Error, workspaceState = result?.WorkspaceState,
                    timings = TimingsJson(result?.Timings ?? []), tenantId, runId,
                }, transaction, cancellationToken: cancellationToken));
            await SetWorkspaceAsync(connection, transaction, tenantId, workspaceId, workspaceStatus, workspaceReason, cancellationToken);
            if (outputs is not null)
                await connection.ExecuteAsync(new CommandDefinition(
                    "update workspaces set outputs = @outputs::jsonb where tenant_id = @tenantId and id = @workspaceId",
                    new { outputs = JsonSerializer.Serialize(outputs), tenantId, workspaceId }, transaction, cancellationToken: cancellationToken));
        });

    private static Task SetWorkspaceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, Guid workspaceId, WorkspaceStatus status, string? reason, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("""
            update workspaces set status = @status::workspace_status, status_reason = @reason, updated_at = now(),
                   destroyed_at = case when @status = 'destroyed' then now() else destroyed_at end
            where tenant_id = @tenantId and id = @workspaceId
            """, new { status = status.ToKey(), reason, tenantId, workspaceId }, transaction, cancellationToken: cancellationToken));

    private async Task InTransactionAsync(Guid tenantId, Guid workspaceId, string action, object details, CancellationToken cancellationToken, Func<NpgsqlConnection, NpgsqlTransaction, Task> change)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await change(connection, transaction);
        await audit.RecordAsync(new AuditEntry(Actor.System("provisioning"), action, tenantId, "workspace", workspaceId.ToString(), details), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static string? SummaryJson(TofuPlanSummary? plan) => plan is null ? null
        : JsonSerializer.Serialize(new RunPlan(plan.Headline, plan.ToAdd, plan.ToChange, plan.ToDestroy, plan.ToReplace, plan.Fingerprint, plan.Drifted), WorkspaceRun.Json);

    private static string TimingsJson(IReadOnlyList<TofuStageTiming> timings) => JsonSerializer.Serialize(
        timings.Select(t => new StageTiming(t.Stage.ToString(), t.StartedAt, (long)t.Duration.TotalMilliseconds, t.Succeeded)), WorkspaceRun.Json);
}
