using System.Text.Json;
using Cogrion.Jobs;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Infrastructure.Processes;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>
/// The only writer of a run's status and of its workspace's status, each change in one transaction
/// with its audit event (its own, or the caller's when a command asks for it). The SQL of the run
/// lifecycle lives here, with the rules that say where a workspace rests after a run; the handlers and
/// commands decide, the ledger writes. Also keeps the run's progress that is not status: the stage it
/// is in, and the processes it started (ADR 0061).
/// </summary>
public sealed class RunLedger(NpgsqlDataSource dataSource, JobQueue queue, AuditLog audit)
{
    private static readonly Actor Provisioning = Actor.System("provisioning");

    /// <summary>
    /// Inserts a queued run and its plan job, inside the caller's transaction (the workspace change
    /// that asked for it commits with it, or neither exists). An unlock run carries the lock it releases, an
    /// upgrade run the Kubernetes version it sets.
    /// </summary>
    public async Task<(Guid RunId, long JobId)> StartRunAsync(
        NpgsqlTransaction transaction, Workspace workspace, RunKind kind, Actor actor, CancellationToken cancellationToken,
            TofuStateLock? stateLock = null, string? kubernetesVersion = null)
    {
        var connection = transaction.Connection!;
        var runId = Guid.CreateVersion7();
        var requestedBy = actor.Label;
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into workspace_runs (id, tenant_id, workspace_id, kind, status, requested_by, state_lock, kubernetes_version)
            values (@runId, @tenantId, @workspaceId, @kind, @status, @requestedBy, @stateLock::jsonb, @kubernetesVersion)
            """, new
        {
            runId,
            tenantId = workspace.TenantId,
            workspaceId = workspace.Id,
            kind = kind.ToDbText(),
            status = RunStatus.Queued.ToDbText(),
            requestedBy,
            stateLock = LockJson(stateLock),
            kubernetesVersion,
        }, transaction, cancellationToken: cancellationToken));
        var jobId = await queue.EnqueueAsync(transaction, new WorkspacePlanJob(workspace.TenantId, workspace.Id, runId), new EnqueueOptions
        {
            CreatedBy = actor.Label,
            TenantId = workspace.TenantId,
            ConcurrencyKey = WorkspaceConcurrency.Key(workspace.Id),
        }, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "update workspace_runs set plan_job_id = @jobId where tenant_id = @tenantId and id = @runId",
            new { jobId, tenantId = workspace.TenantId, runId }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "workspace.run_queued", workspace.TenantId, "workspace", workspace.Id.ToString(),
            new { workspace = workspace.Name, run = runId, kind = kind.ToDbText(), job = jobId, kubernetes = kubernetesVersion }), transaction,
            cancellationToken);
        return (runId, jobId);
    }

    /// <summary>An operator approved the plan: the apply job runs it; the workspace is at work again. In the caller's transaction.</summary>
    public async Task ApproveAsync(NpgsqlTransaction transaction, Workspace workspace, WorkspaceRun run, Actor actor,
        CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var jobId = await queue.EnqueueAsync(transaction, new WorkspaceApplyJob(workspace.TenantId, workspace.Id, run.Id), new EnqueueOptions
        {
            CreatedBy = actor.Label,
            TenantId = workspace.TenantId,
            ConcurrencyKey = WorkspaceConcurrency.Key(workspace.Id),
        }, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            update workspace_runs set status = @status, apply_job_id = @jobId, approved_by = @by, approved_at = now()
            where tenant_id = @tenantId and id = @runId
            """, new { status = RunStatus.Applying.ToDbText(), jobId, by = actor.Label, tenantId = workspace.TenantId, runId = run.Id },
            transaction, cancellationToken: cancellationToken));
        await SetWorkspaceAsync(connection, transaction, workspace.TenantId, workspace.Id, WorkingStatus(run.Kind, workspace) ?? workspace.Status,
            null, cancellationToken);
        await audit.RecordAsync(new AuditEntry(actor, "workspace.plan_approved", workspace.TenantId, "workspace", workspace.Id.ToString(),
            new { run = run.Id, plan = run.Plan?.Headline, job = jobId }), transaction, cancellationToken);
    }

    /// <summary>
    /// Ends a run that applied nothing, at a person's word (rejected, or cancelled before anything ran):
    /// the workspace returns to where it rested. In the caller's transaction, with the person's audit event.
    /// </summary>
    public async Task EndUnappliedAsync(NpgsqlTransaction transaction, Workspace workspace, WorkspaceRun run, RunStatus ended, string? error,
        string workspaceReason,
        AuditEntry audited, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        await connection.ExecuteAsync(new CommandDefinition("""
            update workspace_runs set status = @status, error = coalesce(@error, error), finished_at = now(),
                   workspace_state = 'Nothing was changed in the cloud: the run stopped before applying.'
            where tenant_id = @tenantId and id = @runId
            """, new { status = ended.ToDbText(), error, tenantId = workspace.TenantId, runId = run.Id }, transaction,
                cancellationToken: cancellationToken));
        await SetWorkspaceAsync(connection, transaction, workspace.TenantId, workspace.Id, RestingStatus(workspace), workspaceReason,
            cancellationToken);
        await audit.RecordAsync(audited, transaction, cancellationToken);
    }

    /// <summary>The run enters a stage of its lifecycle; the workspace's status follows when given.</summary>
    public Task MoveAsync(Guid tenantId, Guid workspaceId, Guid runId, RunStatus runStatus, WorkspaceStatus? workspaceStatus, string action,
        object details, CancellationToken cancellationToken) =>
        InTransactionAsync(tenantId, workspaceId, action, details, cancellationToken, async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "update workspace_runs set status = @runStatus where tenant_id = @tenantId and id = @runId",
                new { runStatus = runStatus.ToDbText(), tenantId, runId }, transaction, cancellationToken: cancellationToken));
            if (workspaceStatus is { } status) await SetWorkspaceAsync(connection, transaction, tenantId, workspaceId, status, null,
                cancellationToken);
        });

    /// <summary>Keeps the plan's summary and timings; moves the run on to <paramref name="runStatus"/>.</summary>
    public Task RecordPlanAsync(Guid tenantId, Guid workspaceId, Guid runId, TofuRunResult plan, RunStatus runStatus, WorkspaceStatus workspaceStatus,
        string? reason, CancellationToken cancellationToken) =>
        InTransactionAsync(tenantId, workspaceId, "workspace.planned", new { run = runId, plan = plan.Plan?.Headline, next = runStatus.ToDbText() },
            cancellationToken, async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                update workspace_runs set status = @runStatus, stage = @stage, plan_summary = @summary::jsonb, stage_timings = @timings::jsonb
                where tenant_id = @tenantId and id = @runId
                """, new
            {
                runStatus = runStatus.ToDbText(),
                stage = plan.Stage.ToString(),
                summary = SummaryJson(plan.Plan),
                timings = TimingsJson(plan.Timings),
                tenantId,
                runId
            },
                transaction, cancellationToken: cancellationToken));
            await SetWorkspaceAsync(connection, transaction, tenantId, workspaceId, workspaceStatus, reason, cancellationToken);
        });

    /// <summary>
    /// Ends a run: succeeded, failed or cancelled, with where it stopped and what that means. An upgrade that
    /// succeeded gives the workspace its new Kubernetes version (<paramref name="kubernetesVersion"/>), in the same transaction.
    /// </summary>
    public Task FinishAsync(Guid tenantId, Guid workspaceId, Guid runId, RunStatus runStatus, TofuRunResult? result, WorkspaceStatus workspaceStatus,
        string? workspaceReason, IReadOnlyDictionary<string, string>? outputs, CancellationToken cancellationToken,
        string? kubernetesVersion = null) =>
        InTransactionAsync(tenantId, workspaceId, "workspace.run_" + runStatus.ToDbText(),
            new
            {
                run = runId,
                stage = result?.Stage.ToString(),
                error = result?.Error,
                status = workspaceStatus.ToDbText(),
                stateLock = result?.StateLock?.Id,
                kubernetes = kubernetesVersion
            }, cancellationToken,
            async (connection, transaction) =>
        {
            // Timings accumulate across the plan job and the apply job of one run. An unlock run keeps the lock it released.
            await connection.ExecuteAsync(new CommandDefinition("""
                update workspace_runs set status = @runStatus, stage = coalesce(@stage, stage), error = @error, workspace_state = @workspaceState,
                       stage_timings = stage_timings || @timings::jsonb, finished_at = now(), state_lock = coalesce(@stateLock::jsonb, state_lock)
                where tenant_id = @tenantId and id = @runId
                """, new
            {
                runStatus = runStatus.ToDbText(),
                stage = result?.Stage.ToString(),
                error = result?.Error,
                workspaceState = result?.WorkspaceState,
                timings = TimingsJson(result?.Timings ?? []),
                stateLock = LockJson(result?.StateLock),
                tenantId,
                runId,
            }, transaction, cancellationToken: cancellationToken));
            await SetWorkspaceAsync(connection, transaction, tenantId, workspaceId, workspaceStatus, workspaceReason, cancellationToken);
            if (outputs is not null)
                await connection.ExecuteAsync(new CommandDefinition(
                    "update workspaces set outputs = @outputs::jsonb where tenant_id = @tenantId and id = @workspaceId",
                    new { outputs = JsonSerializer.Serialize(outputs), tenantId, workspaceId }, transaction, cancellationToken: cancellationToken));
            if (kubernetesVersion is not null)
                await connection.ExecuteAsync(new CommandDefinition(
                    "update workspaces set kubernetes_version = @kubernetesVersion where tenant_id = @tenantId and id = @workspaceId",
                    new { kubernetesVersion, tenantId, workspaceId }, transaction, cancellationToken: cancellationToken));
        });

    /// <summary>
    /// Ends a run whose worker stopped before writing how it ended (<see cref="RunRecovery"/>): failed
    /// (cancelled, if an operator had cancelled it) in the stage it was in, saying so, and the workspace
    /// where such a run leaves it. Nothing happens unless the run is still working and its job is
    /// <paramref name="expectedJobId"/>: a run another hand ended meanwhile keeps its end.
    /// </summary>
    public async Task<bool> AbandonAsync(Guid tenantId, Guid runId, long expectedJobId, string jobState, string error, bool killed,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var run = await WorkspaceStore.FindRunAsync(connection, transaction, tenantId, runId, forUpdate: true, cancellationToken);
        if (run is null || !RunStatusText.Working.Contains(run.Status) || (run.ApplyJobId ?? run.PlanJobId) != expectedJobId) return false;
        var workspace = (await WorkspaceStore.FindAsync(connection, transaction, tenantId, run.WorkspaceId, forUpdate: true, cancellationToken))!;

        var cancelled = jobState == "cancelled";
        var stage = Enum.TryParse<TofuStage>(run.Stage, out var parsed) ? parsed : TofuStage.CheckVersion;
        var operation = run.Kind == RunKind.Destroy ? TofuOperation.Destroy : TofuOperation.Apply;
        // The lifeline interrupted OpenTofu when the worker died; only if it had to be killed may the lock be left.
        var state = TofuRunner.WorkspaceStateAfterCancel(stage, operation, killed);
        var status = cancelled ? RunStatus.Cancelled : RunStatus.Failed;
        var workspaceStatus = AfterUnsuccessful(run.Kind, stage, workspace);
        var reason = $"{Capitalized(run.Kind.ToDbText())} run {status.ToDbText()} in {RunStages.Display(run.Stage)}: {error} {state} "
            + (run.Kind == RunKind.Unlock ? "Release the lock again if it is still held." : "Retry to plan again from where the cloud is now.");
        await connection.ExecuteAsync(new CommandDefinition("""
            update workspace_runs set status = @status, error = @error, workspace_state = @state, finished_at = now(), worker_lost_at = now()
            where tenant_id = @tenantId and id = @runId
            """, new { status = status.ToDbText(), error, state, tenantId, runId }, transaction, cancellationToken: cancellationToken));
        await SetWorkspaceAsync(connection, transaction, tenantId, workspace.Id, workspaceStatus, reason, cancellationToken);
        await audit.RecordAsync(new AuditEntry(Provisioning, "workspace.run_" + status.ToDbText(), tenantId, "workspace", workspace.Id.ToString(),
            new { run = runId, stage = run.Stage, error, status = workspaceStatus.ToDbText(), workerLost = true }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The stage the run is in now: a run whose worker dies is known to have died there.</summary>
    public async Task RecordStageAsync(Guid tenantId, Guid runId, TofuStage stage, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "update workspace_runs set stage = @stage where tenant_id = @tenantId and id = @runId",
            new { stage = stage.ToString(), tenantId, runId }, cancellationToken: cancellationToken));
    }

    /// <summary>Records a process the run started, with the job, attempt and worker that own it.</summary>
    public async Task RecordProcessStartedAsync(Guid tenantId, Guid runId, long jobId, int attempt, string workerId, TofuStage stage,
        ProcessIdentity process, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into run_processes (tenant_id, run_id, job_id, attempt, worker_id, stage, system, host, process_id, start_ticks)
            values (@tenantId, @runId, @jobId, @attempt, @workerId, @stage, @system, @host, @processId, @startTicks)
            """, new
        {
            tenantId,
            runId,
            jobId,
            attempt,
            workerId,
            stage = stage.ToString(),
            system = process.System,
            host = process.Host,
            processId = process.ProcessId,
            startTicks = process.StartTicks,
        }, cancellationToken: cancellationToken));
    }

    /// <summary>The recorded process has ended: <c>exited</c> under its worker's eyes, or what a sweep found (<see cref="RunRecovery"/>).</summary>
    public async Task RecordProcessEndedAsync(Guid runId, ProcessIdentity process, string endedBy, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            update run_processes set ended_at = now(), ended_by = @endedBy
            where run_id = @runId and system = @system and process_id = @processId and start_ticks = @startTicks and ended_at is null
            """, new { runId, system = process.System, processId = process.ProcessId, startTicks = process.StartTicks, endedBy },
                cancellationToken: cancellationToken));
    }

    /// <summary>Where a workspace stands while a run of this kind works on it (null: it keeps its status).</summary>
    public static WorkspaceStatus? WorkingStatus(RunKind kind, Workspace workspace) => kind switch
    {
        RunKind.Apply => workspace.Outputs is null ? WorkspaceStatus.Provisioning : WorkspaceStatus.Updating,
        RunKind.Upgrade => WorkspaceStatus.Updating,
        RunKind.Destroy => WorkspaceStatus.Destroying,
        _ => null,
    };

    /// <summary>Where a workspace rests when a run ends without touching the cloud, at a person's word.</summary>
    public static WorkspaceStatus RestingStatus(Workspace workspace) => workspace.Outputs is null ? WorkspaceStatus.Pending : WorkspaceStatus.Ready;

    /// <summary>
    /// Where a workspace stands after a run failed or was cancelled in <paramref name="stage"/>. Before
    /// the apply nothing changed in the cloud: a workspace that existed keeps its status, as it does after
    /// a drift check or a lock release; otherwise it is failed, and its reason says what may exist.
    /// </summary>
    public static WorkspaceStatus AfterUnsuccessful(RunKind kind, TofuStage stage, Workspace workspace) => kind switch
    {
        RunKind.Unlock => workspace.Status,
        RunKind.Drift => workspace.Status is WorkspaceStatus.Drifted ? WorkspaceStatus.Drifted : WorkspaceStatus.Ready,
        _ when stage < TofuStage.Apply && workspace.Outputs is not null => workspace.Status is WorkspaceStatus.Drifted ? WorkspaceStatus.Drifted
            : WorkspaceStatus.Ready,
        _ => WorkspaceStatus.Failed,
    };

    private static Task SetWorkspaceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, Guid workspaceId,
        WorkspaceStatus status, string? reason, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("""
            update workspaces set status = @status::workspace_status, status_reason = @reason, updated_at = now(),
                   destroyed_at = case when @status = 'destroyed' then now() else destroyed_at end
            where tenant_id = @tenantId and id = @workspaceId
            """, new { status = status.ToDbText(), reason, tenantId, workspaceId }, transaction, cancellationToken: cancellationToken));

    private async Task InTransactionAsync(Guid tenantId, Guid workspaceId, string action, object details, CancellationToken cancellationToken,
        Func<NpgsqlConnection, NpgsqlTransaction, Task> change)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await change(connection, transaction);
        await audit.RecordAsync(new AuditEntry(Provisioning, action, tenantId, "workspace", workspaceId.ToString(), details), transaction,
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private static string? LockJson(TofuStateLock? stateLock) => stateLock is null ? null : JsonSerializer.Serialize(stateLock, WorkspaceRun.Json);

    private static string? SummaryJson(TofuPlanSummary? plan) => plan is null ? null
        : JsonSerializer.Serialize(new RunPlan(plan.Headline, plan.ToAdd, plan.ToChange, plan.ToDestroy, plan.ToReplace, plan.Fingerprint,
            plan.Drifted), WorkspaceRun.Json);

    private static string TimingsJson(IReadOnlyList<TofuStageTiming> timings) => JsonSerializer.Serialize(
        timings.Select(t => new StageTiming(t.Stage.ToString(), t.StartedAt, (long)t.Duration.TotalMilliseconds, t.Succeeded)), WorkspaceRun.Json);
}
