using System.Text.Json;
using Npgsql;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Features.Workspaces.Modules;
using Cogrion.Portal.Features.Workspaces.Sandbox;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>The run's readable log goes to the job's log: stored, and streamed to whoever watches the workspace.</summary>
public sealed class JobRunLog(JobContext context) : IRunLog
{
    public async ValueTask WriteAsync(RunLogLine line, CancellationToken cancellationToken) =>
        await context.AppendLogAsync(line.Level == RunLogLevel.Info ? line.Text : $"[{line.Level.ToString().ToLowerInvariant()}] {line.Text}");
}

/// <summary>A run that failed: the job fails with the run's error (already in plain words, secrets masked).</summary>
public sealed class ProvisioningRunFailedException(string message) : Exception(message);

/// <summary>
/// Executes the halves of a run: plan (then apply at once, or wait for an approval) and apply.
/// Idempotent per run: a job that finds its run already past its stage does nothing.
/// </summary>
public sealed class WorkspaceRunExecutor(
    NpgsqlDataSource dataSource,
    TofuRunner runner,
    WorkspaceRunRequests requests,
    IBootstrapTokenSource bootstrapTokens,
    RunLedger ledger,
    StateBackends stateBackends,
    SandboxAgentLauncher sandboxAgents,
    ILogger<WorkspaceRunExecutor> logger)
{
    private sealed record Loaded(Workspace Workspace, CloudAccount Account, WorkspaceRun Run);

    public async Task PlanAsync(Guid tenantId, Guid workspaceId, Guid runId, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (await LoadAsync(tenantId, workspaceId, runId, cancellationToken) is not { } loaded) { await context.AppendLogAsync("The run no longer exists."); return; }
        var (workspace, account, run) = loaded;
        if (run.Status != RunStatuses.Queued) { await context.AppendLogAsync($"The run is already {run.Status}; nothing to do."); return; }

        WorkspaceStatus? working = run.Kind switch
        {
            RunKind.Apply => workspace.Outputs is null ? WorkspaceStatus.Provisioning : WorkspaceStatus.Updating,
            RunKind.Destroy => WorkspaceStatus.Destroying,
            _ => null,
        };
        await ledger.MoveAsync(tenantId, workspaceId, runId, RunStatuses.Planning, working, "workspace.run_started",
            new { run = runId, kind = run.Kind.ToString().ToLowerInvariant() }, CancellationToken.None);
        await context.AppendLogAsync($"{run.Kind} run of workspace {workspace.Name} ({account.Provider.ToText()}, {workspace.Region}) requested by {run.RequestedBy}.");

        var log = new JobRunLog(context);
        var backend = await stateBackends.EnsureAsync(account, workspace.Region, runId, log, cancellationToken);
        if (!backend.Succeeded) { await EndAsync(loaded, backend, requests.Request(workspace, account, runId, run.Kind, variables: null), context); return; }

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
            await ledger.RecordPlanAsync(tenantId, workspaceId, runId, plan, RunStatuses.Succeeded, status, reason, CancellationToken.None);
            await ledger.FinishAsync(tenantId, workspaceId, runId, RunStatuses.Succeeded, null, status, reason, null, CancellationToken.None);
            Cleanup(request);
            return;
        }

        if (workspace.ApprovalMode == ApprovalMode.Manual && plan.Plan!.HasChanges)
        {
            // The saved plan waits in the working directory for an operator; the token is already out of it.
            await ledger.RecordPlanAsync(tenantId, workspaceId, runId, plan, RunStatuses.AwaitingApproval, WorkspaceStatus.AwaitingApproval,
                $"Waiting for an operator to approve: {plan.Plan.Headline}", CancellationToken.None);
            await context.AppendLogAsync("Waiting for an operator to approve the plan.");
            return;
        }

        await ledger.RecordPlanAsync(tenantId, workspaceId, runId, plan, RunStatuses.Applying, working ?? workspace.Status, null, CancellationToken.None);
        var apply = await runner.ApplyAsync(request, log, cancellationToken);
        await EndAsync(loaded with { Run = run with { Status = RunStatuses.Applying } }, apply, request, context);
    }

    public async Task ApplyAsync(Guid tenantId, Guid workspaceId, Guid runId, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (await LoadAsync(tenantId, workspaceId, runId, cancellationToken) is not { } loaded) { await context.AppendLogAsync("The run no longer exists."); return; }
        if (loaded.Run.Status != RunStatuses.Applying) { await context.AppendLogAsync($"The run is {loaded.Run.Status}; nothing to apply."); return; }
        await context.AppendLogAsync($"Plan approved by {loaded.Run.ApprovedBy}; applying it.");
        var request = requests.Request(loaded.Workspace, loaded.Account, runId, loaded.Run.Kind, variables: null);
        var log = new JobRunLog(context);
        IReadOnlyList<TofuStageTiming> replanTimings = [];
        if (!TofuRunner.HasSavedPlan(request))
        {
            // The plan job ran on another replica, or this one restarted: the saved plan (which holds
            // secrets, so it never leaves the worker's disk) is not here. Plan again; the approval
            // holds only if the new plan makes exactly the approved changes (ADR 0046).
            await context.AppendLogAsync("The saved plan is not on this worker (another replica made it, or this one restarted): planning again, to apply it only if it is the plan that was approved.");
            request = await PlanRequestAsync(loaded, cancellationToken);
            var replanned = await runner.PlanAsync(request, log, cancellationToken);
            if (!replanned.Succeeded) { await EndAsync(loaded, replanned, request, context); return; }
            if (replanned.Plan!.Fingerprint != loaded.Run.Plan?.Fingerprint)
            {
                var changed = $"The plan changed after it was approved: it now says \"{replanned.Plan.Headline}\" (approved: \"{loaded.Run.Plan?.Headline}\"). Nothing was applied; retry to plan again and review the new plan.";
                await EndAsync(loaded, replanned with
                {
                    Status = TofuRunStatus.Failed, Error = changed, WorkspaceState = TofuRunner.WorkspaceStateAfterFailure(replanned.Stage, request.Operation),
                }, request, context);
                return;
            }
            await context.AppendLogAsync("The new plan makes exactly the approved changes; applying it.");
            replanTimings = replanned.Timings;
        }
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
        return requests.Request(workspace, account, run.Id, run.Kind, requests.Variables(workspace, new SensitiveString(token)));
    }

    /// <summary>Writes how the run ended; a failure fails the job and a cancel cancels it, so the console agrees.</summary>
    private async Task EndAsync(Loaded loaded, TofuRunResult result, TofuRunRequest request, JobContext context)
    {
        var (workspace, _, run) = loaded;
        Cleanup(request);
        if (result.Succeeded)
        {
            var destroyed = run.Kind == RunKind.Destroy;
            if (destroyed) sandboxAgents.Stop(workspace.Id);
            if (!destroyed && workspace.Provider == CloudProvider.Sandbox && sandboxAgents.Enabled
                && !await sandboxAgents.EnsureRegisteredAsync(workspace.TenantId, workspace.Id, workspace.Name, context.AppendLogAsync, context.CancellationToken))
            {
                const string noAgent = "The resources were applied, but the Cluster Agent did not register in time. Retry to start it again.";
                await ledger.FinishAsync(workspace.TenantId, workspace.Id, run.Id, RunStatuses.Failed, result with { Error = noAgent }, WorkspaceStatus.Failed, noAgent,
                    Outputs(result.Outputs), CancellationToken.None);
                throw new ProvisioningRunFailedException(noAgent);
            }
            await ledger.FinishAsync(workspace.TenantId, workspace.Id, run.Id, RunStatuses.Succeeded, result,
                destroyed ? WorkspaceStatus.Destroyed : WorkspaceStatus.Ready, null, destroyed ? null : Outputs(result.Outputs), CancellationToken.None);
            return;
        }

        // Before the apply nothing changed in the cloud: a workspace that existed keeps its status.
        var untouched = result.Stage < TofuStage.Apply;
        var status = run.Kind == RunKind.Drift || (untouched && workspace.Outputs is not null)
            ? (workspace.Status is WorkspaceStatus.Drifted ? WorkspaceStatus.Drifted : WorkspaceStatus.Ready)
            : WorkspaceStatus.Failed;
        var reason = $"{run.Kind} run {(result.Status == TofuRunStatus.Cancelled ? "cancelled" : "failed")} in {result.Stage}. {result.WorkspaceState}".Trim();
        var runStatus = result.Status == TofuRunStatus.Cancelled ? RunStatuses.Cancelled : RunStatuses.Failed;
        await ledger.FinishAsync(workspace.TenantId, workspace.Id, run.Id, runStatus, result, status, reason, null, CancellationToken.None);
        logger.LogInformation("Workspace {WorkspaceId} run {RunId} ended {RunStatus} in {Stage}", workspace.Id, run.Id, runStatus, result.Stage);
        if (result.Status == TofuRunStatus.Cancelled) throw new OperationCanceledException("The run was cancelled.");
        throw new ProvisioningRunFailedException(result.Error ?? $"The run failed in {result.Stage}.");
    }

    private static string DriftReason(TofuPlanSummary plan) =>
        $"Drift detected: {(plan.Drifted.Count switch { 0 => "", 1 => "1 object changed outside OpenTofu. ", var n => $"{n} objects changed outside OpenTofu. " })}"
        + $"{plan.Headline} Review the plan and apply to bring the workspace back.";

    /// <summary>Outputs as text for display; <see cref="TofuOutputs"/> never carries a sensitive value.</summary>
    private static Dictionary<string, string>? Outputs(TofuOutputs? outputs) => outputs?.Values.ToDictionary(
        o => o.Key,
        o => o.Value.ValueKind switch
        {
            JsonValueKind.String => o.Value.GetString() ?? "",
            JsonValueKind.Null => "",
            JsonValueKind.Array => string.Join(", ", o.Value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText())),
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
    public Task RunAsync(WorkspacePlanJob arguments, JobContext context) => executor.PlanAsync(arguments.TenantId, arguments.WorkspaceId, arguments.RunId, context);
}

public sealed class WorkspaceApplyHandler(WorkspaceRunExecutor executor) : IJobHandler<WorkspaceApplyJob>
{
    public Task RunAsync(WorkspaceApplyJob arguments, JobContext context) => executor.ApplyAsync(arguments.TenantId, arguments.WorkspaceId, arguments.RunId, context);
}
