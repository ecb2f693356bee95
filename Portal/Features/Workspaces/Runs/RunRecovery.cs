using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Infrastructure.Processes;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>What one sweep did: processes found still running and ended, and runs ended for their lost worker.</summary>
public sealed record RecoverySweep(int LeftoversEnded, int RunsFailed);

/// <summary>
/// Cleans up after a worker that stopped in the middle of a run (ADR 0061), on every replica that runs
/// workers, at start and every <see cref="ProvisioningOptions.RecoveryInterval"/>:
/// <list type="number">
/// <item>Processes a run recorded whose job its worker no longer holds (the reaper took it, it was
/// handed back, it ended) are looked for: on this system they are interrupted and, after OpenTofu's
/// grace period, killed; one recorded elsewhere is left to that system's replicas until its lifeline has
/// surely ended it.</item>
/// <item>Then, and only then, a run still working whose job is over is failed in the stage it was in,
/// its workspace put where such a run leaves it, with the reason and the next step.</item>
/// </list>
/// It also answers whether a workspace may start a run now (<see cref="WhyBusyAsync"/>): not while an
/// earlier run is working or may still have a process alive.
/// </summary>
public sealed class RunRecovery(
    NpgsqlDataSource dataSource,
    RunLedger ledger,
    LeftoverProcesses leftovers,
    IOptions<ProvisioningOptions> provisioning,
    IOptions<OpenTofuOptions> tofu,
    IOptions<JobsOptions> jobs,
    MigrationStatus migrations,
    TimeProvider time,
    ILogger<RunRecovery> logger) : BackgroundService
{
    /// <summary>
    /// A process recorded on another system is taken as ended this long after its worker lost the job:
    /// the lifeline ends it within OpenTofu's grace period of its worker's death; the margin covers clocks
    /// and the reaper's own delay.
    /// </summary>
    private TimeSpan PresumedEndedAfter => tofu.Value.CancelGracePeriod + TimeSpan.FromSeconds(30);

    private sealed record OpenProcess(long Id, Guid RunId, string System, string Host, int ProcessId, long StartTicks, DateTimeOffset? ReleasedAt)
    {
        public ProcessIdentity Identity => new(System, Host, ProcessId, StartTicks);
    }

    private sealed record LostRun(Guid TenantId, Guid Id, long JobId, string JobState, string? LastError, string? LastOutcome, bool Killed);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A replica that runs no workers is a web front end only: cleaning up after workers is a worker's job.
        if (!jobs.Value.RunWorkers) return;
        try
        {
            await migrations.WaitUntilAppliedAsync(stoppingToken);
            using var timer = new PeriodicTimer(provisioning.Value.RecoveryInterval, time);
            do
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Run recovery could not sweep: {Error}", ex.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass: leftovers first, then the runs they belonged to.</summary>
    public async Task<RecoverySweep> SweepAsync(CancellationToken cancellationToken)
    {
        var ended = await EndLeftoversOfAsync(runId: null, cancellationToken);
        var failed = await FailLostRunsAsync(cancellationToken);
        return new RecoverySweep(ended.Count(o => o is LeftoverOutcome.Interrupted or LeftoverOutcome.Killed), failed);
    }

    /// <summary>Ends what is left of one run's processes (its job was handed back mid-run); true if one had to be killed.</summary>
    public async Task<bool> EndLeftoversAsync(Guid runId, CancellationToken cancellationToken) =>
        (await EndLeftoversOfAsync(runId, cancellationToken)).Contains(LeftoverOutcome.Killed);

    /// <summary>Whether an earlier execution of this job started processes for the run: then it stopped mid-run.</summary>
    public async Task<bool> StartedProcessesAsync(Guid runId, long jobId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from run_processes where run_id = @runId and job_id = @jobId)",
            new { runId, jobId }, cancellationToken: cancellationToken));
    }

    private async Task<IReadOnlyList<LeftoverOutcome>> EndLeftoversOfAsync(Guid? runId, CancellationToken cancellationToken)
    {
        List<OpenProcess> open;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            // Open records whose job is no longer held by the worker (and attempt) that started them.
            open = (await connection.QueryAsync<OpenProcess>(new CommandDefinition("""
                select p.id, p.run_id, p.system, p.host, p.process_id, p.start_ticks, coalesce(j.finished_at, j.lease_expires_at) as released_at
                from run_processes p left join jobs j on j.id = p.job_id
                where p.ended_at is null and (@runId::uuid is null or p.run_id = @runId)
                  and (j.id is null or j.state <> 'running' or j.worker_id is distinct from p.worker_id or j.attempt <> p.attempt)
                order by p.id
                """, new { runId }, cancellationToken: cancellationToken))).AsList();
        }
        var outcomes = await Task.WhenAll(open.Select(async process =>
        {
            var identity = process.Identity;
            if (!identity.IsOnThisSystem)
            {
                if (process.ReleasedAt is { } released && time.GetUtcNow() - released > PresumedEndedAfter)
                    await ledger.RecordProcessEndedAsync(process.RunId, identity, "presumed", CancellationToken.None);
                return LeftoverOutcome.Elsewhere;
            }
            var outcome = await leftovers.EndAsync(identity, tofu.Value.CancelGracePeriod, cancellationToken);
            if (outcome is LeftoverOutcome.Interrupted or LeftoverOutcome.Killed)
                logger.LogWarning("Run {RunId}: its worker stopped and left {Process} running; it was {Outcome}", process.RunId, identity, outcome);
            await ledger.RecordProcessEndedAsync(process.RunId, identity, outcome.ToString().ToLowerInvariant(), CancellationToken.None);
            return outcome;
        }));
        return outcomes;
    }

    private async Task<int> FailLostRunsAsync(CancellationToken cancellationToken)
    {
        List<LostRun> lost;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            // Runs still working whose job is over, once nothing they started may still run.
            lost = (await connection.QueryAsync<LostRun>(new CommandDefinition("""
                select r.tenant_id, r.id, j.id as job_id, j.state as job_state, j.last_error,
                       (select a.outcome from job_attempts a where a.job_id = j.id order by a.attempt desc limit 1) as last_outcome,
                       exists (select 1 from run_processes p where p.run_id = r.id and p.ended_by = 'killed') as killed
                from workspace_runs r join jobs j on j.id = coalesce(r.apply_job_id, r.plan_job_id)
                where r.status = any(@working) and j.state in ('succeeded', 'failed', 'cancelled')
                  and not exists (select 1 from run_processes p where p.run_id = r.id and p.ended_at is null)
                order by r.created_at
                """, new { working = RunStatusText.Keys(RunStatusText.Working) }, cancellationToken: cancellationToken))).AsList();
        }
        var failed = 0;
        foreach (var run in lost)
        {
            var error = run.LastOutcome == "lease_expired"
                ? $"The worker running this run stopped. {run.LastError}"
                : run.JobState == "cancelled" ? "The run was cancelled while its worker was stopping."
                : $"Its job ended ({run.JobState}) without recording how the run ended{(run.LastError is { } e ? $": {e}" : ".")}";
            if (await ledger.AbandonAsync(run.TenantId, run.Id, run.JobId, run.JobState, error, run.Killed, cancellationToken))
            {
                failed++;
                logger.LogWarning("Run {RunId} lost its worker; it was ended {JobState}: {Error}", run.Id, run.JobState, error);
            }
        }
        return failed;
    }

    /// <summary>
    /// Why no new run of the workspace may start now, or null: an earlier run still works (or its worker
    /// stopped and it is being cleaned up), or a process an earlier run started may still be alive.
    /// </summary>
    public static async Task<string?> WhyBusyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Workspace workspace,
        CancellationToken cancellationToken)
    {
        var active = await connection.QueryFirstOrDefaultAsync<WorkspaceStore.RunRow>(new CommandDefinition($"""
            select {WorkspaceStore.RunColumns} from {WorkspaceStore.RunFrom}
            where r.tenant_id = @tenantId and r.workspace_id = @workspaceId and r.status = any(@active)
            order by r.created_at desc limit 1
            """, new { tenantId = workspace.TenantId, workspaceId = workspace.Id, active = RunStatusText.Keys(RunStatusText.Active) }, transaction,
            cancellationToken: cancellationToken));
        if (active?.ToRun() is { } run)
            return run.IsBeingRecovered
                ? "The worker running the last run stopped; the Portal is ending what it left running before it fails that run. Try again in a " +
                    "minute."
                : "Another run of this workspace is in progress.";

        var open = await connection.QueryAsync<OpenProcess>(new CommandDefinition("""
            select p.id, p.run_id, p.system, p.host, p.process_id, p.start_ticks, null::timestamptz as released_at
            from run_processes p join workspace_runs r on r.id = p.run_id
            where r.tenant_id = @tenantId and r.workspace_id = @workspaceId and p.ended_at is null
            """, new { tenantId = workspace.TenantId, workspaceId = workspace.Id }, transaction, cancellationToken: cancellationToken));
        return open.FirstOrDefault(p => LeftoverProcesses.MayBeAlive(p.Identity)) is { } alive
            ? $"A process of an earlier run ({alive.Identity}) may still be running; the Portal stops it first. Try again in a minute."
            : null;
    }
}
