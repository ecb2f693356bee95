using System.Text.Json;
using Cogrion.Jobs;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Modules;
using Cogrion.Portal.Features.Workspaces.Sandbox;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Infrastructure.Processes;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>The run's readable log goes to the job's log: stored, and streamed to whoever watches the workspace.</summary>
public sealed class JobRunLog(JobContext context) : IRunLog
{
    public async ValueTask WriteAsync(RunLogLine line, CancellationToken cancellationToken) =>
        await context.AppendLogAsync(line.Level == RunLogLevel.Info ? line.Text : $"[{line.Level.ToString().ToLowerInvariant()}] {line.Text}");
}

/// <summary>
/// A workspace run's log (the job's log) and its progress, which goes to the ledger: the stage it is
/// in, and each process it starts, with the job and worker that own it (ADR 0061).
/// <paramref name="pinnedStage"/>: the stage every stage of an inner run counts as (the state backend's
/// bootstrap runs its own plan and apply within the run's first stage).
/// </summary>
public sealed class WorkspaceRunLog(JobContext context, RunLedger ledger, Guid tenantId, Guid runId, TofuStage? pinnedStage = null) : IRunLog
{
    private readonly JobRunLog log = new(context);

    public ValueTask WriteAsync(RunLogLine line, CancellationToken cancellationToken) => log.WriteAsync(line, cancellationToken);

    public async ValueTask StageStartedAsync(TofuStage stage, CancellationToken cancellationToken)
    {
        if (pinnedStage is null) await ledger.RecordStageAsync(tenantId, runId, stage, cancellationToken);
    }

    public async ValueTask ProcessStartedAsync(TofuStage stage, ProcessIdentity process, CancellationToken cancellationToken) =>
        await ledger.RecordProcessStartedAsync(tenantId, runId, context.JobId, context.Attempt, context.WorkerId, pinnedStage ?? stage, process,
            cancellationToken);

    public async ValueTask ProcessEndedAsync(ProcessIdentity process, CancellationToken cancellationToken) =>
        await ledger.RecordProcessEndedAsync(runId, process, "exited", cancellationToken);

    /// <summary>The same log, with every stage counted as <paramref name="stage"/> (recorded once, now).</summary>
    public async Task<WorkspaceRunLog> WithinAsync(TofuStage stage)
    {
        await ledger.RecordStageAsync(tenantId, runId, stage, CancellationToken.None);
        return new WorkspaceRunLog(context, ledger, tenantId, runId, stage);
    }
}

/// <summary>A run that failed: the job fails with the run's error (already in plain words, secrets masked).</summary>
public sealed class ProvisioningRunFailedException(string message) : Exception(message);

/// <summary>
/// Executes the halves of a run: plan (then apply at once, or wait for an approval) and apply; and the
/// release of a stale state lock. Idempotent per run: a job that finds its run already past its stage
/// does nothing, and a job handed back by a worker that stopped mid-run (a shutdown) ends what that
/// worker left running and fails the run rather than pick up half of it.
/// </summary>
public sealed class WorkspaceRunExecutor(
    NpgsqlDataSource dataSource,
    TofuRunner runner,
    WorkspaceRunRequests requests,
    IBootstrapTokenSource bootstrapTokens,
    RunLedger ledger,
    RunRecovery recovery,
    StateBackends stateBackends,
    SandboxClusters sandboxClusters,
    ILogger<WorkspaceRunExecutor> logger)
{
    private sealed record Loaded(Workspace Workspace, CloudAccount Account, WorkspaceRun Run);

    public async Task PlanAsync(Guid tenantId, Guid workspaceId, Guid runId, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (await LoadAsync(tenantId, workspaceId, runId,
            cancellationToken) is not { } loaded) { await context.AppendLogAsync("The run no longer exists."); return; }
        var (workspace, account, run) = loaded;
        if (run.Status != RunStatus.Queued)
        {
            if (RunStatusText.Working.Contains(run.Status) && run.ApplyJobId is null && run.PlanJobId == context.JobId)
                await FailInterruptedAsync(tenantId, run, context);
            await context.AppendLogAsync($"The run is already {run.Status.ToText()}; nothing to do.");
            return;
        }

        var working = RunLedger.WorkingStatus(run.Kind, workspace);
        await ledger.MoveAsync(tenantId, workspaceId, runId, run.Kind == RunKind.Unlock ? RunStatus.Applying : RunStatus.Planning, working,
            "workspace.run_started",
            new { run = runId, kind = run.Kind.ToDbText() }, CancellationToken.None);
        await context.AppendLogAsync($"{run.Kind} run of workspace {workspace.Name} ({account.Provider.ToText()}, {workspace.Region}) requested by " +
            $"{run.RequestedBy}.");
        if (run.Kind == RunKind.Upgrade)
            await context.AppendLogAsync(
                $"Upgrading Kubernetes in place from {workspace.KubernetesVersion} to {run.KubernetesVersion}: "
                + "the plan changes kubernetes_version only.");

        var log = new WorkspaceRunLog(context, ledger, tenantId, runId);
        if (run.Kind == RunKind.Unlock)
        {
            await UnlockAsync(loaded, log, context);
            return;
        }
        var backend = await stateBackends.EnsureAsync(account, workspace.Region, runId, await log.WithinAsync(TofuStage.StateBackend),
            cancellationToken);
        if (!backend.Succeeded)
        {
            await EndAsync(loaded, backend, requests.Request(workspace, account, runId, run.Kind, variables: null),
            context); return;
        }

        var request = await PlanRequestAsync(loaded, cancellationToken);
        var plan = await runner.PlanAsync(request, log, cancellationToken);
        plan = plan with { Timings = [.. backend.Timings, .. plan.Timings] };
        if (!plan.Succeeded) { await EndAsync(loaded, plan, request, context); return; }

        if (run.Kind == RunKind.Drift)
        {
            TofuRunner.DiscardPlan(request);
            // Drift is what a plan would change: an object changed outside OpenTofu in a way the
            // configuration ignores is reported by the refresh but needs nothing.
            var drifted = plan.Plan!.HasChanges;
            var status = drifted ? WorkspaceStatus.Drifted : workspace.Status == WorkspaceStatus.Drifted ? WorkspaceStatus.Ready : workspace.Status;
            var reason = drifted ? DriftReason(plan.Plan) : null;
            await ledger.RecordPlanAsync(tenantId, workspaceId, runId, plan, RunStatus.Succeeded, status, reason, CancellationToken.None);
            await ledger.FinishAsync(tenantId, workspaceId, runId, RunStatus.Succeeded, null, status, reason, null, CancellationToken.None);
            Cleanup(request);
            return;
        }

        if (workspace.ApprovalMode == ApprovalMode.Manual && plan.Plan!.HasChanges)
        {
            // The saved plan waits in the working directory for an operator; the token is already out of it.
            await ledger.RecordPlanAsync(tenantId, workspaceId, runId, plan, RunStatus.AwaitingApproval, WorkspaceStatus.AwaitingApproval,
                $"Waiting for an operator to approve: {plan.Plan.Headline}", CancellationToken.None);
            await context.AppendLogAsync("Waiting for an operator to approve the plan.");
            return;
        }

        await ledger.RecordPlanAsync(tenantId, workspaceId, runId, plan, RunStatus.Applying, working ?? workspace.Status, null,
            CancellationToken.None);
        if (await PrepareClusterAsync(workspace, context) is { } noCluster)
        {
            await EndAsync(loaded with { Run = run with { Status = RunStatus.Applying } }, noCluster, request, context);
            return;
        }
        var apply = await runner.ApplyAsync(request, log, cancellationToken);
        await EndAsync(loaded with { Run = run with { Status = RunStatus.Applying } }, apply, request, context);
    }

    /// <summary>
    /// An operator asked to release the state lock a killed process left behind (<c>tofu force-unlock</c>
    /// with the lock's ID, which the run carries). The workspace keeps its status; its reason says what
    /// to do next.
    /// </summary>
    private async Task UnlockAsync(Loaded loaded, WorkspaceRunLog log, JobContext context)
    {
        var (workspace, account, run) = loaded;
        var request = requests.Request(workspace, account, run.Id, RunKind.Apply, variables: null);
        var stateLock = run.StateLock ?? throw new InvalidOperationException("An unlock run without the lock it releases.");
        await context.AppendLogAsync($"Releasing the state lock held by {stateLock.Describe()}.");
        var result = await runner.ForceUnlockAsync(request, stateLock.Id, log, context.CancellationToken);
        if (!result.Succeeded)
        {
            await EndAsync(loaded, result, request, context);
            return;
        }
        Cleanup(request);
        await ledger.FinishAsync(workspace.TenantId, workspace.Id, run.Id, RunStatus.Succeeded, result, workspace.Status,
            $"The state lock {stateLock.Id} was released by {run.RequestedBy}. Retry the run that could not take it.", null, CancellationToken.None);
    }

    /// <summary>
    /// This job was handed back by a worker that stopped in the middle of it (a shutdown that outlasted
    /// its grace period): what that worker started is ended first, then the run fails in the stage it
    /// was in. Half a run is not picked up: the cloud may have moved under it, and Retry plans afresh.
    /// </summary>
    private async Task FailInterruptedAsync(Guid tenantId, WorkspaceRun run, JobContext context)
    {
        await context.AppendLogAsync($"The worker that ran this job stopped during {RunStages.Display(run.Stage)}; ending what it left running, " +
            $"then failing the run.");
        var killed = await recovery.EndLeftoversAsync(run.Id, context.CancellationToken);
        await ledger.AbandonAsync(tenantId, run.Id, context.JobId, "failed",
            "The worker running this run stopped in the middle of it (it shut down before the run ended).", killed, CancellationToken.None);
        throw new ProvisioningRunFailedException($"The run was interrupted during {RunStages.Display(run.Stage)} when its worker stopped; retry it.");
    }

    public async Task ApplyAsync(Guid tenantId, Guid workspaceId, Guid runId, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (await LoadAsync(tenantId, workspaceId, runId,
            cancellationToken) is not { } loaded) { await context.AppendLogAsync("The run no longer exists."); return; }
        if (loaded.Run.Status != RunStatus.Applying)
        {
            await context.AppendLogAsync($"The run is {loaded.Run.Status.ToText()}; nothing to apply.");
            return;
        }
        if (await recovery.StartedProcessesAsync(runId, context.JobId, cancellationToken)) await FailInterruptedAsync(tenantId, loaded.Run, context);
        await context.AppendLogAsync($"Plan approved by {loaded.Run.ApprovedBy}; applying it.");
        var request = requests.Request(loaded.Workspace, loaded.Account, runId, loaded.Run.Kind, variables: null);
        var log = new WorkspaceRunLog(context, ledger, tenantId, runId);
        IReadOnlyList<TofuStageTiming> replanTimings = [];
        if (!TofuRunner.HasSavedPlan(request))
        {
            // The plan job ran on another replica, or this one restarted: the saved plan (which holds
            // secrets, so it never leaves the worker's disk) is not here. Plan again; the approval
            // holds only if the new plan makes exactly the approved changes (ADR 0046).
            await context.AppendLogAsync("The saved plan is not on this worker (another replica made it, or this one restarted): planning again, " +
                "to apply it only if it is the plan that was approved.");
            request = await PlanRequestAsync(loaded, cancellationToken);
            var replanned = await runner.PlanAsync(request, log, cancellationToken);
            if (!replanned.Succeeded) { await EndAsync(loaded, replanned, request, context); return; }
            if (replanned.Plan!.Fingerprint != loaded.Run.Plan?.Fingerprint)
            {
                var changed = $"The plan changed after it was approved: it now says \"{replanned.Plan.Headline}\" (approved: " +
                    $"\"{loaded.Run.Plan?.Headline}\"). Nothing was applied; retry to plan again and review the new plan.";
                await EndAsync(loaded, replanned with
                {
                    Status = TofuRunStatus.Failed,
                    Error = changed,
                    WorkspaceState = TofuRunner.WorkspaceStateAfterFailure(replanned.Stage, request.Operation),
                }, request, context);
                return;
            }
            await context.AppendLogAsync("The new plan makes exactly the approved changes; applying it.");
            replanTimings = replanned.Timings;
        }
        if (await PrepareClusterAsync(loaded.Workspace, context) is { } noCluster) { await EndAsync(loaded, noCluster, request, context); return; }
        var apply = await runner.ApplyAsync(request, log, cancellationToken);
        await EndAsync(loaded, apply with { Timings = [.. replanTimings, .. apply.Timings] }, request, context);
    }

    /// <summary>
    /// A request with the workspace's inputs and a freshly minted agent bootstrap token. The token lives
    /// in memory and in the variables file the runner deletes after the plan (ADR 0048).
    /// </summary>
    private async Task<TofuRunRequest> PlanRequestAsync(Loaded loaded, CancellationToken cancellationToken)
    {
        var (workspace, account, run) = loaded;
        var token = await bootstrapTokens.MintAsync(workspace.TenantId, workspace.Id, cancellationToken);
        return requests.Request(workspace, account, run.Id, run.Kind, requests.Variables(run.Planning(workspace), new SensitiveString(token)));
    }

    /// <summary>Writes how the run ended; a failure fails the job and a cancel cancels it, so the console agrees.</summary>
    private async Task EndAsync(Loaded loaded, TofuRunResult result, TofuRunRequest request, JobContext context)
    {
        var (workspace, _, run) = loaded;
        Cleanup(request);
        if (result.Succeeded)
        {
            var destroyed = run.Kind == RunKind.Destroy;
            if (destroyed && workspace.Provider == CloudProvider.Sandbox) await sandboxClusters.RemoveAsync(workspace.Id);
            if (!destroyed && workspace.Provider == CloudProvider.Sandbox && sandboxClusters.RunsAgents
                && !await WaitForAgentAsync(workspace, context))
            {
                const string noAgent = "The resources were applied, but the Cluster Agent did not register in time. Retry to start it again.";
                await ledger.FinishAsync(workspace.TenantId, workspace.Id, run.Id, RunStatus.Failed, result with { Error = noAgent },
                    WorkspaceStatus.Failed, noAgent,
                    Outputs(result.Outputs), CancellationToken.None, run.Kind == RunKind.Upgrade ? run.KubernetesVersion : null);
                throw new ProvisioningRunFailedException(noAgent);
            }
            await ledger.FinishAsync(workspace.TenantId, workspace.Id, run.Id, RunStatus.Succeeded, result,
                destroyed ? WorkspaceStatus.Destroyed : WorkspaceStatus.Ready, null, destroyed ? null : Outputs(result.Outputs),
                CancellationToken.None,
                run.Kind == RunKind.Upgrade ? run.KubernetesVersion : null);
            return;
        }

        var status = RunLedger.AfterUnsuccessful(run.Kind, result.Stage, workspace);
        var runStatus = result.Status == TofuRunStatus.Cancelled ? RunStatus.Cancelled : RunStatus.Failed;
        var reason = $"{run.Kind} run {runStatus.ToDbText()} in {RunStages.Display(result.Stage.ToString())}. {result.WorkspaceState}"
            + (result.StateLock is { } held ? $" The state is locked by {held.Describe()}: if no run is still working on it, release the lock." : "");
        await ledger.FinishAsync(workspace.TenantId, workspace.Id, run.Id, runStatus, result, status, reason, null, CancellationToken.None);
        logger.LogInformation("Workspace {WorkspaceId} run {RunId} ended {RunStatus} in {Stage}", workspace.Id, run.Id, runStatus, result.Stage);
        if (result.Status == TofuRunStatus.Cancelled) throw new OperationCanceledException("The run was cancelled.");
        throw new ProvisioningRunFailedException(result.Error ?? $"The run failed in {result.Stage}.");
    }

    /// <summary>
    /// The sandbox's cluster must serve before the apply reaches its Kubernetes objects (the cloud's
    /// cluster would exist by then): started here, or found running.
    /// </summary>
    /// <returns>Null when the apply may go on; otherwise how the run ended (nothing was applied).</returns>
    private async Task<TofuRunResult?> PrepareClusterAsync(Workspace workspace, JobContext context)
    {
        if (workspace.Provider != CloudProvider.Sandbox) return null;
        try
        {
            await sandboxClusters.EnsureRunningAsync(workspace.Id, context.AppendLogAsync, context.CancellationToken);
            return null;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            return new TofuRunResult
            {
                Status = TofuRunStatus.Cancelled,
                Stage = TofuStage.Apply,
                Error = "The run was cancelled before the apply started.",
                WorkspaceState = "Nothing was applied."
            };
        }
        catch (Exception ex) when (ex is InvalidOperationException or Cogrion.Portal.Infrastructure.Processes.ChildProcessNotStartedException)
        {
            return new TofuRunResult
            {
                Status = TofuRunStatus.Failed,
                Stage = TofuStage.Apply,
                Error = $"The workspace's simulated cluster could not start: {ex.Message}",
                WorkspaceState = "Nothing was applied."
            };
        }
    }

    /// <summary>The module's Deployment runs the agent in the cluster; the workspace is ready when that agent has registered.</summary>
    private async Task<bool> WaitForAgentAsync(Workspace workspace, JobContext context)
    {
        await context.AppendLogAsync("Waiting for the Cluster Agent, started by the cluster from the module's Deployment, to register with the " +
            "Portal.");
        var registered = await sandboxClusters.WaitForAgentAsync(workspace.TenantId, workspace.Id, context.CancellationToken);
        if (registered) await context.AppendLogAsync("The Cluster Agent registered.");
        return registered;
    }

    private static string DriftReason(TofuPlanSummary plan) =>
        $"Drift detected: {plan.Drifted.Count switch
        {
            0 => "",
            1 => "1 object changed outside OpenTofu. ",
            var n => $"{n} objects changed outside OpenTofu. ",
        }}"
        + $"{plan.Headline} Review the plan and apply to bring the workspace back.";

    /// <summary>Outputs as text for display; <see cref="TofuOutputs"/> never carries a sensitive value.</summary>
    private static Dictionary<string, string>? Outputs(TofuOutputs? outputs) => outputs?.Values.ToDictionary(
        o => o.Key,
        o => o.Value.ValueKind switch
        {
            JsonValueKind.String => o.Value.GetString() ?? "",
            JsonValueKind.Null => "",
            JsonValueKind.Array
                => string.Join(", ", o.Value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText())),
            _ => o.Value.GetRawText(),
        });

    private void Cleanup(TofuRunRequest request)
    {
        TofuRunner.DeleteWorkingDirectory(request.WorkingDirectory, logger);
    }

    private async Task<Loaded?> LoadAsync(Guid tenantId, Guid workspaceId, Guid runId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var workspace = await WorkspaceStore.FindAsync(connection, null, tenantId, workspaceId, forUpdate: false, cancellationToken);
        var run = await WorkspaceStore.FindRunAsync(connection, null, tenantId, runId, forUpdate: false, cancellationToken);
        if (workspace is null || run is null || run.WorkspaceId != workspaceId) return null;
        var account = await CloudAccountStore.FindAsync(connection, null, tenantId, workspace.CloudAccountId, cancellationToken);
        return account is null ? null : new Loaded(workspace, account, run);
    }
}

public sealed class WorkspacePlanHandler(WorkspaceRunExecutor executor) : IJobHandler<WorkspacePlanJob>
{
    public Task RunAsync(WorkspacePlanJob arguments, JobContext context)
        => executor.PlanAsync(arguments.TenantId, arguments.WorkspaceId, arguments.RunId, context);
}

public sealed class WorkspaceApplyHandler(WorkspaceRunExecutor executor) : IJobHandler<WorkspaceApplyJob>
{
    public Task RunAsync(WorkspaceApplyJob arguments, JobContext context)
        => executor.ApplyAsync(arguments.TenantId, arguments.WorkspaceId, arguments.RunId, context);
}
