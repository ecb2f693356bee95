using System.Text.Json;
using Cogrion.Jobs;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>
/// Every change a person makes to a workspace: create (and its first run), approve or reject a plan,
/// cancel, retry, destroy, release a stale state lock. Each is one transaction with its audit event; a
/// refused request changes nothing. Run and workspace statuses are written by <see cref="RunLedger"/> alone.
/// </summary>
public sealed class WorkspaceCommands(
    NpgsqlDataSource dataSource, RunLedger ledger, JobControl jobs, AuditLog audit, WorkspaceRunRequests requests, KubernetesVersionPolicy versions,
    ILogger<WorkspaceCommands> logger)
{
    public async Task<CommandResult<Workspace>> CreateAsync(Guid tenantId, NewWorkspace input, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One creation at a time per tenant: the name and overlap checks below must not race another creation.
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtextextended('workspaces:' || @tenantId::text, 0))",
            new { tenantId }, transaction, cancellationToken: cancellationToken));

        var account = input.CloudAccountId is { } accountId
            ? await CloudAccountStore.FindAsync(connection, transaction, tenantId, accountId, cancellationToken) : null;
        var networks = account is not null && input.Region is not null
            ? await WorkspaceStore.NetworksInAsync(connection, transaction, tenantId, account.Id, input.Region, cancellationToken) : [];
        var taken = WorkspaceRules.CheckName(input.Name) is null
            && await WorkspaceStore.NameTakenAsync(connection, transaction, tenantId, input.Name!, cancellationToken);
        var errors = WorkspaceRules.Check(input, account, networks, taken, versions);
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
            id,
            tenantId,
            name = input.Name,
            accountId = account!.Id,
            provider = account.Provider.ToKey(),
            region = input.Region,
            cidr = input.NetworkCidr,
            version = input.KubernetesVersion,
            pools = JsonSerializer.Serialize(pools, WorkspaceRun.Json),
            karpenter = input.UseKarpenter,
            database = input.Database is null ? null : JsonSerializer.Serialize(input.Database, WorkspaceRun.Json),
            approval = input.ApprovalMode.ToDbText(),
            createdBy = actor.Label,
        }, transaction, cancellationToken: cancellationToken));
        var workspace = (await WorkspaceStore.FindAsync(connection, transaction, tenantId, id, forUpdate: false, cancellationToken))!;
        await audit.RecordAsync(new AuditEntry(actor, "workspace.created", tenantId, "workspace", id.ToString(), new
        {
            name = workspace.Name,
            provider = account.Provider.ToKey(),
            account = account.Name,
            region = workspace.Region,
            network = workspace.NetworkCidr,
            kubernetes = workspace.KubernetesVersion,
            approval = input.ApprovalMode.ToDbText(),
        }), transaction, cancellationToken);
        await ledger.StartRunAsync(transaction, workspace, RunKind.Apply, actor, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<Workspace>.Ok(workspace);
    }

    /// <summary>An operator read the plan and lets it apply: the apply job runs the saved plan.</summary>
    public Task<CommandResult<WorkspaceRun>> ApproveAsync(Guid tenantId, Guid workspaceId, Guid runId, Actor actor,
        CancellationToken cancellationToken) =>
        OnRunAsync(tenantId, workspaceId, runId, cancellationToken, async (transaction, workspace, run) =>
        {
            if (run.Status != RunStatus.AwaitingApproval) return CommandResult<WorkspaceRun>.Invalid("run",
                $"This run is {run.Status.ToText()}, not awaiting approval.");
            await ledger.ApproveAsync(transaction, workspace, run, actor, cancellationToken);
            return CommandResult<WorkspaceRun>.Ok(run);
        });

    /// <summary>An operator refuses the plan: the saved plan is deleted and nothing changes in the cloud.</summary>
    public Task<CommandResult<WorkspaceRun>> RejectAsync(Guid tenantId, Guid workspaceId, Guid runId, Actor actor,
        CancellationToken cancellationToken) =>
        OnRunAsync(tenantId, workspaceId, runId, cancellationToken, async (transaction, workspace, run) =>
        {
            if (run.Status != RunStatus.AwaitingApproval) return CommandResult<WorkspaceRun>.Invalid("run",
                $"This run is {run.Status.ToText()}, not awaiting approval.");
            await ledger.EndUnappliedAsync(transaction, workspace, run, RunStatus.Rejected, $"Plan rejected by {actor.Label}.",
                "The last plan was rejected; nothing was changed in the cloud.",
                new AuditEntry(actor, "workspace.plan_rejected", tenantId, "workspace", workspaceId.ToString(),
                    new { run = runId, plan = run.Plan?.Headline }),
                cancellationToken);
            DiscardPlanFiles(workspace, runId);
            return CommandResult<WorkspaceRun>.Ok(run);
        });

    /// <summary>
    /// Stops the active run. A running job is cancelled through the engine (the runner interrupts tofu,
    /// then kills it after the grace period) and its handler records where it stopped; a queued job is
    /// cancelled at once, and a plan awaiting approval is simply dropped.
    /// </summary>
    public Task<CommandResult<WorkspaceRun>> CancelAsync(Guid tenantId, Guid workspaceId, Guid runId, Actor actor,
        CancellationToken cancellationToken) =>
        OnRunAsync(tenantId, workspaceId, runId, cancellationToken, async (transaction, workspace, run) =>
        {
            if (!run.IsActive) return CommandResult<WorkspaceRun>.Invalid("run", $"This run already ended ({run.Status.ToText()}).");
            var jobId = run.ApplyJobId ?? run.PlanJobId;
            var cancelRequested = new AuditEntry(actor, "workspace.run_cancel_requested", tenantId, "workspace", workspaceId.ToString(),
                new { run = runId, job = jobId });
            var job = run.Status == RunStatus.AwaitingApproval || jobId is null ? null
                : await jobs.RequestCancelAsync(transaction, jobId.Value, cancellationToken);
            if (job is null || job.State == JobStates.Cancelled)
            {
                // Nothing is running: the handler will not write the outcome, so it is written here.
                await ledger.EndUnappliedAsync(transaction, workspace, run, RunStatus.Cancelled, null,
                    "The run was cancelled before it applied anything: nothing was changed in the cloud.", cancelRequested, cancellationToken);
                DiscardPlanFiles(workspace, runId);
            }
            else
            {
                await audit.RecordAsync(cancelRequested, transaction, cancellationToken);
            }
            return CommandResult<WorkspaceRun>.Ok(run);
        });

    /// <summary>
    /// Starts a new run of the same kind as a failed or cancelled one: a fresh plan, since the cloud may
    /// have moved. Refused while an earlier run may still be at work: its job still holds a lease, or its
    /// worker stopped and a process it started may still be alive (ADR 0061).
    /// </summary>
    public Task<CommandResult<WorkspaceRun>> RetryAsync(Guid tenantId, Guid workspaceId, Guid runId, Actor actor,
        CancellationToken cancellationToken) =>
        OnRunAsync(tenantId, workspaceId, runId, cancellationToken, async (transaction, workspace, run) =>
        {
            if (run.Status is not (RunStatus.Failed or RunStatus.Cancelled) || run.Kind == RunKind.Unlock)
                return CommandResult<WorkspaceRun>.Invalid("run", "Only a failed or cancelled run can be retried.");
            if (await RunRecovery.WhyBusyAsync(transaction.Connection!, transaction, workspace, cancellationToken) is { } busy)
                return CommandResult<WorkspaceRun>.Invalid("run", busy);
            // A retried upgrade sets the same version: the cloud may already be part of the way there.
            await ledger.StartRunAsync(transaction, workspace, run.Kind, actor, cancellationToken, kubernetesVersion: run.KubernetesVersion);
            return CommandResult<WorkspaceRun>.Ok(run);
        });

    /// <summary>
    /// Starts an upgrade run: a plan that changes the cluster's Kubernetes version in place to the provider's
    /// next minor version (one at a time, as EKS requires), approved and applied like any run. The workspace
    /// takes the new version only when the apply succeeds. Refused while a run may be at work, before the
    /// workspace exists in the cloud, and when the provider has released nothing newer.
    /// </summary>
    public async Task<CommandResult<WorkspaceRun>> UpgradeKubernetesAsync(Guid tenantId, Guid workspaceId, Actor actor,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var workspace = await WorkspaceStore.FindAsync(connection, transaction, tenantId, workspaceId, forUpdate: true, cancellationToken);
        if (workspace is null || workspace.Status == WorkspaceStatus.Destroyed) return CommandResult<WorkspaceRun>.NotFound();
        if (workspace.Outputs is null)
            return CommandResult<WorkspaceRun>.Invalid("kubernetesVersion",
                "The workspace has not been created in the cloud yet: there is no cluster to upgrade.");
        if (versions.UpgradeTarget(workspace.Provider, workspace.KubernetesVersion) is not { } target)
            return CommandResult<WorkspaceRun>.Invalid("kubernetesVersion",
                $"{versions.PlatformOf(workspace.Provider)} has released no Kubernetes version after {workspace.KubernetesVersion} yet.");
        if (await RunRecovery.WhyBusyAsync(connection, transaction, workspace, cancellationToken) is { } busy)
            return CommandResult<WorkspaceRun>.Invalid("kubernetesVersion", $"{busy} Wait for it to end.");
        var standing = versions.StandingOf(workspace.Provider, workspace.KubernetesVersion);
        await audit.RecordAsync(new AuditEntry(actor, "workspace.kubernetes_upgrade_requested", tenantId, "workspace", workspaceId.ToString(), new
        {
            name = workspace.Name,
            from = workspace.KubernetesVersion,
            to = target.ToString(),
            support = standing.Support.ToString(),
            standardSupportEnds = standing.Release?.StandardSupportEnds.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        }), transaction, cancellationToken);
        var (runId, _) = await ledger.StartRunAsync(transaction, workspace, RunKind.Upgrade, actor, cancellationToken,
            kubernetesVersion: target.ToString());
        var run = (await WorkspaceStore.FindRunAsync(connection, transaction, tenantId, runId, forUpdate: false, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<WorkspaceRun>.Ok(run);
    }

    /// <summary>
    /// Releases the state lock that the workspace's last run could not take (left by a process that was
    /// killed), as <c>tofu force-unlock</c> does: an unlock run. The operator names the lock (its ID, as the
    /// page shows it) and types the workspace's name; refused while any run may still be at work, since the
    /// lock may then be a live run's.
    /// </summary>
    public async Task<CommandResult<WorkspaceRun>> ReleaseStateLockAsync(Guid tenantId, Guid workspaceId, string? lockId, string? typedName,
        Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var workspace = await WorkspaceStore.FindAsync(connection, transaction, tenantId, workspaceId, forUpdate: true, cancellationToken);
        if (workspace is null || workspace.Status == WorkspaceStatus.Destroyed) return CommandResult<WorkspaceRun>.NotFound();
        var latest = await WorkspaceStore.LatestRunAsync(connection, transaction, tenantId, workspaceId, cancellationToken);
        if (latest?.StateLock is not { } held || latest.Kind == RunKind.Unlock || latest.IsActive)
            return CommandResult<WorkspaceRun>.Invalid("lockId",
                "The last run of this workspace did not find its state locked: there is no lock to release.");
        if (!string.Equals(lockId?.Trim(), held.Id, StringComparison.Ordinal))
            return CommandResult<WorkspaceRun>.Invalid("lockId",
                $"The lock to release is {held.Id}; the state's lock may have changed since you looked.");
        if (!string.Equals(typedName, workspace.Name, StringComparison.Ordinal))
            return CommandResult<WorkspaceRun>.Invalid("confirmation", $"Type the workspace's name, {workspace.Name}, to confirm.");
        if (await RunRecovery.WhyBusyAsync(connection, transaction, workspace, cancellationToken) is { } busy)
            return CommandResult<WorkspaceRun>.Invalid("confirmation", busy);
        await audit.RecordAsync(new AuditEntry(actor, "workspace.state_lock_release_requested", tenantId, "workspace", workspaceId.ToString(), new
        {
            name = workspace.Name,
            lockId = held.Id,
            heldBy = held.Who,
            operation = held.Operation,
            since = held.Created,
            failedRun = latest.Id,
        }), transaction, cancellationToken);
        var (runId, _) = await ledger.StartRunAsync(transaction, workspace, RunKind.Unlock, actor, cancellationToken, held);
        var run = (await WorkspaceStore.FindRunAsync(connection, transaction, tenantId, runId, forUpdate: false, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<WorkspaceRun>.Ok(run);
    }

    /// <summary>Destroys every resource of the workspace, once the person typed its name.</summary>
    public async Task<CommandResult<Workspace>> DestroyAsync(Guid tenantId, Guid workspaceId, string? typedName, Actor actor,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var workspace = await WorkspaceStore.FindAsync(connection, transaction, tenantId, workspaceId, forUpdate: true, cancellationToken);
        if (workspace is null || workspace.Status == WorkspaceStatus.Destroyed) return CommandResult<Workspace>.NotFound();
        if (!string.Equals(typedName, workspace.Name, StringComparison.Ordinal))
            return CommandResult<Workspace>.Invalid("confirmation", $"Type the workspace's name, {workspace.Name}, to confirm.");
        if (await RunRecovery.WhyBusyAsync(connection, transaction, workspace, cancellationToken) is { } busy)
            return CommandResult<Workspace>.Invalid("confirmation", $"{busy} Cancel it or wait for it to end.");
        await audit.RecordAsync(new AuditEntry(actor, "workspace.destroy_requested", tenantId, "workspace", workspaceId.ToString(),
            new { name = workspace.Name }), transaction, cancellationToken);
        await ledger.StartRunAsync(transaction, workspace, RunKind.Destroy, actor, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<Workspace>.Ok(workspace);
    }

    private async Task<CommandResult<WorkspaceRun>> OnRunAsync(Guid tenantId, Guid workspaceId, Guid runId, CancellationToken cancellationToken,
        Func<NpgsqlTransaction, Workspace, WorkspaceRun, Task<CommandResult<WorkspaceRun>>> change)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The workspace row is the lock: approve, reject, cancel and retry of one workspace take turns.
        var workspace = await WorkspaceStore.FindAsync(connection, transaction, tenantId, workspaceId, forUpdate: true, cancellationToken);
        var run = workspace is null ? null
            : await WorkspaceStore.FindRunAsync(connection, transaction, tenantId, runId, forUpdate: true, cancellationToken);
        if (workspace is null || run is null || run.WorkspaceId != workspaceId) return CommandResult<WorkspaceRun>.NotFound();
        var result = await change(transaction, workspace, run);
        if (result.Succeeded) await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private void DiscardPlanFiles(Workspace workspace, Guid runId)
    {
        // The saved plan embeds every variable value: it must not outlive a decision not to apply it.
        TofuRunner.DeleteWorkingDirectory(requests.WorkingDirectory(workspace, runId), logger);
    }
}
