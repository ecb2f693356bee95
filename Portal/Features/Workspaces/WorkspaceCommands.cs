using System.Text.Json;
using Dapper;
using Npgsql;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>
/// Every change a person makes to a workspace: create (and its first run), approve or reject a plan,
/// cancel, retry, destroy. Each is one transaction with its audit event; a refused request changes nothing.
/// </summary>
public sealed class WorkspaceCommands(NpgsqlDataSource dataSource, JobQueue queue, JobControl jobs, AuditLog audit, WorkspaceRunRequests requests, ILogger<WorkspaceCommands> logger)
{
    public async Task<CommandResult<Workspace>> CreateAsync(Guid tenantId, NewWorkspace input, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One creation at a time per tenant: the name and overlap checks below must not race another creation.
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtextextended('workspaces:' || @tenantId::text, 0))",
            new { tenantId }, transaction, cancellationToken: cancellationToken));

        var account = input.CloudAccountId is { } accountId ? await CloudAccountStore.FindAsync(connection, transaction, tenantId, accountId, cancellationToken) : null;
        var networks = account is not null && input.Region is not null
            ? await WorkspaceStore.NetworksInAsync(connection, transaction, tenantId, account.Id, input.Region, cancellationToken) : [];
        var taken = WorkspaceRules.CheckName(input.Name) is null && await WorkspaceStore.NameTakenAsync(connection, transaction, tenantId, input.Name!, cancellationToken);
        var errors = WorkspaceRules.Check(input, account, networks, taken);
        if (!errors.IsEmpty) return CommandResult<Workspace>.Invalid(errors);

        var id = Guid.CreateVersion7();
        var pools = input.UseKarpenter ? [] : input.NodePools;
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into workspaces (id, tenant_id, name, cloud_account_id, provider, region, network_cidr, kubernetes_version, node_pools,
                                    use_karpenter, database, approval_mode, status, created_by)
            values (@id, @tenantId, @name, @accountId, @provider::cloud_provider, @region, @cidr::cidr, @version, @pools::jsonb,
                    @karpenter, @database::jsonb, @approval, 'pending', @createdBy)
            """, new
            {
                id, tenantId, name = input.Name, accountId = account!.Id, provider = account.Provider.ToKey(), region = input.Region, cidr = input.NetworkCidr,
                version = input.KubernetesVersion, pools = JsonSerializer.Serialize(pools, WorkspaceRun.Json), karpenter = input.UseKarpenter,
                database = input.Database is null ? null : JsonSerializer.Serialize(input.Database, WorkspaceRun.Json),
                approval = input.ApprovalMode.ToString().ToLowerInvariant(), createdBy = JobQueue.Describe(actor),
            }, transaction, cancellationToken: cancellationToken));
        var workspace = (await WorkspaceStore.FindAsync(connection, transaction, tenantId, id, forUpdate: false, cancellationToken))!;
        await audit.RecordAsync(new AuditEntry(actor, "workspace.created", tenantId, "workspace", id.ToString(), new
        {
            name = workspace.Name, provider = account.Provider.ToKey(), account = account.Name, region = workspace.Region, network = workspace.NetworkCidr,
            kubernetes = workspace.KubernetesVersion, approval = input.ApprovalMode.ToString().ToLowerInvariant(),
        }), transaction, cancellationToken);
        await RunLedger.StartRunAsync(transaction, queue, audit, workspace, RunKind.Apply, actor, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<Workspace>.Ok(workspace);
    }

    /// <summary>An operator read the plan and lets it apply: the apply job runs the saved plan.</summary>
    public Task<CommandResult<WorkspaceRun>> ApproveAsync(Guid tenantId, Guid workspaceId, Guid runId, Actor actor, CancellationToken cancellationToken) =>
        OnRunAsync(tenantId, workspaceId, runId, cancellationToken, async (connection, transaction, workspace, run) =>
        {
            if (run.Status != RunStatuses.AwaitingApproval) return CommandResult<WorkspaceRun>.Invalid("run", $"This run is {run.Status.Replace('_', ' ')}, not awaiting approval.");
            var jobId = await queue.EnqueueAsync(transaction, new WorkspaceApplyJob(tenantId, workspaceId, runId), new EnqueueOptions
            {
                CreatedBy = actor, TenantId = tenantId, ConcurrencyKey = WorkspaceConcurrency.Key(workspaceId),
            }, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition("""
                update workspace_runs set status = 'applying', apply_job_id = @jobId, approved_by = @by, approved_at = now()
                where tenant_id = @tenantId and id = @runId
                """, new { jobId, by = JobQueue.Describe(actor), tenantId, runId }, transaction, cancellationToken: cancellationToken));
            var working = run.Kind == RunKind.Destroy ? WorkspaceStatus.Destroying : workspace.Outputs is null ? WorkspaceStatus.Provisioning : WorkspaceStatus.Updating;
            await SetStatusAsync(connection, transaction, workspace, working, null, cancellationToken);
            await audit.RecordAsync(new AuditEntry(actor, "workspace.plan_approved", tenantId, "workspace", workspaceId.ToString(),
                new { run = runId, plan = run.Plan?.Headline, job = jobId }), transaction, cancellationToken);
            return CommandResult<WorkspaceRun>.Ok(run);
        });

    /// <summary>An operator refuses the plan: the saved plan is deleted and nothing changes in the cloud.</summary>
    public Task<CommandResult<WorkspaceRun>> RejectAsync(Guid tenantId, Guid workspaceId, Guid runId, Actor actor, CancellationToken cancellationToken) =>
        OnRunAsync(tenantId, workspaceId, runId, cancellationToken, async (connection, transaction, workspace, run) =>
        {
            if (run.Status != RunStatuses.AwaitingApproval) return CommandResult<WorkspaceRun>.Invalid("run", $"This run is {run.Status.Replace('_', ' ')}, not awaiting approval.");
            await EndRunAsync(connection, transaction, tenantId, runId, RunStatuses.Rejected, $"Plan rejected by {JobQueue.Describe(actor)}.", cancellationToken);
            await SetStatusAsync(connection, transaction, workspace, RestingStatus(workspace), "The last plan was rejected; nothing was changed in the cloud.", cancellationToken);
            await audit.RecordAsync(new AuditEntry(actor, "workspace.plan_rejected", tenantId, "workspace", workspaceId.ToString(),
                new { run = runId, plan = run.Plan?.Headline }), transaction, cancellationToken);
            DiscardPlanFiles(workspace, runId);
            return CommandResult<WorkspaceRun>.Ok(run);
        });

    /// <summary>
    /// Stops the active run. A running job is cancelled through the engine (the runner interrupts tofu,
    /// then kills it after the grace period) and its handler records where it stopped; a queued job is
    /// cancelled at once, and a plan awaiting approval is simply dropped.
    /// </summary>
    public Task<CommandResult<WorkspaceRun>> CancelAsync(Guid tenantId, Guid workspaceId, Guid runId, Actor actor, CancellationToken cancellationToken) =>
        OnRunAsync(tenantId, workspaceId, runId, cancellationToken, async (connection, transaction, workspace, run) =>
        {
            if (!run.IsActive) return CommandResult<WorkspaceRun>.Invalid("run", $"This run already ended ({run.Status}).");
            var jobId = run.ApplyJobId ?? run.PlanJobId;
            var job = run.Status == RunStatuses.AwaitingApproval || jobId is null ? null : await jobs.RequestCancelAsync(transaction, jobId.Value, cancellationToken);
            if (job is null || job.State == JobStates.Cancelled)
            {
                // Nothing is running: the handler will not write the outcome, so it is written here.
                await EndRunAsync(connection, transaction, tenantId, runId, RunStatuses.Cancelled, null, cancellationToken);
                await SetStatusAsync(connection, transaction, workspace, RestingStatus(workspace),
                    "The run was cancelled before it applied anything: nothing was changed in the cloud.", cancellationToken);
                DiscardPlanFiles(workspace, runId);
            }
            await audit.RecordAsync(new AuditEntry(actor, "workspace.run_cancel_requested", tenantId, "workspace", workspaceId.ToString(),
                new { run = runId, job = jobId }), transaction, cancellationToken);
            return CommandResult<WorkspaceRun>.Ok(run);
        });

    /// <summary>Starts a new run of the same kind as a failed or cancelled one: a fresh plan, since the cloud may have moved.</summary>
    public Task<CommandResult<WorkspaceRun>> RetryAsync(Guid tenantId, Guid workspaceId, Guid runId, Actor actor, CancellationToken cancellationToken) =>
        OnRunAsync(tenantId, workspaceId, runId, cancellationToken, async (connection, transaction, workspace, run) =>
        {
            if (run.Status is not (RunStatuses.Failed or RunStatuses.Cancelled)) return CommandResult<WorkspaceRun>.Invalid("run", "Only a failed or cancelled run can be retried.");
            if (await HasActiveRunAsync(connection, transaction, workspace, cancellationToken)) return CommandResult<WorkspaceRun>.Invalid("run", "Another run of this workspace is in progress.");
            await RunLedger.StartRunAsync(transaction, queue, audit, workspace, run.Kind, actor, cancellationToken);
            return CommandResult<WorkspaceRun>.Ok(run);
        });

    /// <summary>Destroys every resource of the workspace, once the person typed its name.</summary>
    public async Task<CommandResult<Workspace>> DestroyAsync(Guid tenantId, Guid workspaceId, string? typedName, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var workspace = await WorkspaceStore.FindAsync(connection, transaction, tenantId, workspaceId, forUpdate: true, cancellationToken);
        if (workspace is null || workspace.Status == WorkspaceStatus.Destroyed) return CommandResult<Workspace>.NotFound();
        if (!string.Equals(typedName, workspace.Name, StringComparison.Ordinal))
            return CommandResult<Workspace>.Invalid("confirmation", $"Type the workspace's name, {workspace.Name}, to confirm.");
        if (await HasActiveRunAsync(connection, transaction, workspace, cancellationToken))
            return CommandResult<Workspace>.Invalid("confirmation", "A run of this workspace is in progress: cancel it or wait for it to end.");
        await audit.RecordAsync(new AuditEntry(actor, "workspace.destroy_requested", tenantId, "workspace", workspaceId.ToString(), new { name = workspace.Name }), transaction, cancellationToken);
        await RunLedger.StartRunAsync(transaction, queue, audit, workspace, RunKind.Destroy, actor, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<Workspace>.Ok(workspace);
    }

    /// <summary>Where a workspace rests when a run ends without touching the cloud.</summary>
    private static WorkspaceStatus RestingStatus(Workspace workspace) => workspace.Outputs is null ? WorkspaceStatus.Pending : WorkspaceStatus.Ready;

    private async Task<CommandResult<WorkspaceRun>> OnRunAsync(Guid tenantId, Guid workspaceId, Guid runId, CancellationToken cancellationToken,
        Func<NpgsqlConnection, NpgsqlTransaction, Workspace, WorkspaceRun, Task<CommandResult<WorkspaceRun>>> change)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The workspace row is the lock: approve, reject, cancel and retry of one workspace take turns.
        var workspace = await WorkspaceStore.FindAsync(connection, transaction, tenantId, workspaceId, forUpdate: true, cancellationToken);
        var run = workspace is null ? null : await WorkspaceStore.FindRunAsync(connection, transaction, tenantId, runId, forUpdate: true, cancellationToken);
        if (workspace is null || run is null || run.WorkspaceId != workspaceId) return CommandResult<WorkspaceRun>.NotFound();
        var result = await change(connection, transaction, workspace, run);
        if (result.Succeeded) await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private static Task<bool> HasActiveRunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Workspace workspace, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition($"""
            select exists (select 1 from {WorkspaceStore.RunFrom}
                           where r.tenant_id = @tenantId and r.workspace_id = @workspaceId and r.status = any(@active)
                             and (j.state is null or j.state not in ('failed', 'cancelled')))
            """, new { tenantId = workspace.TenantId, workspaceId = workspace.Id, active = RunStatuses.Active }, transaction, cancellationToken: cancellationToken));

    private static Task EndRunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, Guid runId, string status, string? error, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("""
            update workspace_runs set status = @status, error = coalesce(@error, error), finished_at = now(),
                   workspace_state = 'Nothing was changed in the cloud: the run stopped before applying.'
            where tenant_id = @tenantId and id = @runId
            """, new { status, error, tenantId, runId }, transaction, cancellationToken: cancellationToken));

    private static Task SetStatusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Workspace workspace, WorkspaceStatus status, string? reason, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("""
            update workspaces set status = @status::workspace_status, status_reason = @reason, updated_at = now()
            where tenant_id = @tenantId and id = @workspaceId
            """, new { status = status.ToKey(), reason, tenantId = workspace.TenantId, workspaceId = workspace.Id }, transaction, cancellationToken: cancellationToken));

    private void DiscardPlanFiles(Workspace workspace, Guid runId)
    {
        // The saved plan embeds every variable value: it must not outlive a decision not to apply it.
        TofuRunner.DeleteWorkingDirectory(requests.WorkingDirectory(workspace, runId), logger);
    }
}
