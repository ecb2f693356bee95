using System.Diagnostics;
using Cogrion.Lifeline;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Infrastructure.Processes;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// What a worker finds after another died mid-run (ADR 0061), one situation at a time: the dead worker's
/// job and process records are written as the reaper and the worker would have left them, and the
/// "leftover" is a real process started under a real lifeline by this test, then left behind.
/// </summary>
public sealed class RunRecoveryTests : IAsyncLifetime
{
    private const string DeadWorker = "gone-host:4242:dead00";
    private readonly LifelineLauncher lifelines = new(NullLogger<LifelineLauncher>.Instance);
    private readonly List<LifelineProcess> started = [];
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() =>
        world = await WorkspaceWorld.StartAsync(runWorkers: false, new Dictionary<string, string?> { ["OpenTofu:CancelGracePeriod"] = "00:00:01" });

    public async Task DisposeAsync()
    {
        foreach (var process in started) process.Dispose();
        await world.DisposeAsync();
    }

    private RunRecovery Recovery => world.Get<RunRecovery>();

    /// <summary>A workspace whose first run a worker took to <paramref name="stage"/>, as its status says.</summary>
    private async Task<(Guid Tenant, Workspace Workspace, WorkspaceRun Run)> RunInAsync(string name, string runStatus, string stage)
    {
        var tenant = await world.NewTenantAsync(name);
        var account = await world.NewAccountAsync(tenant);
        var workspace = (await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, name, approval: ApprovalMode.Automatic),
            WorkspaceWorld.Operator, default)).Value!;
        await using var connection = await world.OpenAsync();
        await connection.ExecuteAsync("""
            update workspace_runs set status = @runStatus, stage = @stage where workspace_id = @id;
            update workspaces set status = 'provisioning' where id = @id;
            """, new { runStatus, stage, id = workspace.Id });
        var run = (await world.Store.RunsAsync(tenant, workspace.Id, 1, default))[0];
        return (tenant, workspace, run);
    }

    /// <summary>The job as the dead worker held it: running under its lease (<paramref name="reaped"/> false), or failed by the reaper.</summary>
    private async Task JobOfDeadWorkerAsync(long jobId, bool reaped)
    {
        await using var connection = await world.OpenAsync();
        await connection.ExecuteAsync(reaped
            ? """
              update jobs set state = 'failed', attempt = 1, worker_id = @worker, started_at = now() - interval '1 minute', finished_at = now(),
                     last_error = 'Worker ' || @worker || ' stopped renewing its lease (its process died or froze); '
                                  || 'the lease expired at 2026-12-05 10:11:12 UTC. No attempts were left.'
              where id = @jobId;
              insert into job_attempts (job_id, attempt, worker_id, started_at, finished_at, outcome, error)
              values (@jobId, 1, @worker, now() - interval '1 minute', now(), 'lease_expired', 'lease expired');
              """
            : """
              update jobs set state = 'running', attempt = 1, worker_id = @worker, started_at = now(), lease_expires_at = now() + interval '1 hour'
              where id = @jobId;
              """, new { jobId, worker = DeadWorker });
    }

    /// <summary>A real process left behind: started under a lifeline, recorded for the run as the dead worker's.</summary>
    private async Task<LifelineProcess> LeftoverAsync(WorkspaceRun run, Guid tenant, string command)
    {
        var start = new ProcessStartInfo("bash");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        var process = await lifelines.StartAsync(start, TimeSpan.FromMinutes(5), CancellationToken.None);
        started.Add(process);
        await world.Get<RunLedger>()
            .RecordProcessStartedAsync(tenant, run.Id, run.PlanJobId!.Value, 1, DeadWorker, TofuStage.Apply, process.Identity, default);
        return process;
    }

    [Fact]
    public async Task A_run_whose_worker_was_reaped_is_failed_in_its_stage_after_its_leftover_process_is_ended()
    {
        var (tenant, workspace, run) = await RunInAsync("reaped", "applying", "Apply");
        await JobOfDeadWorkerAsync(run.PlanJobId!.Value, reaped: true);
        var leftover = await LeftoverAsync(run, tenant, "trap '' INT; sleep 300"); // ignores the interrupt: killed after the grace period

        var sweep = await Recovery.SweepAsync(default);

        Assert.Equal(new RecoverySweep(LeftoversEnded: 1, RunsFailed: 1), sweep);
        Assert.Empty(LeftoverProcesses.Members(leftover.Identity));
        var failed = (await world.Store.RunsAsync(tenant, workspace.Id, 1, default))[0];
        Assert.Equal((RunStatus.Failed, "Apply"), (failed.Status, failed.Stage));
        Assert.StartsWith($"The worker running this run stopped. Worker {DeadWorker} stopped renewing its lease", failed.Error);
        Assert.NotNull(failed.WorkerLostAt);
        Assert.Contains("state may still be locked", failed.WorkspaceState); // it had to be killed
        var lake = (await world.Store.FindByNameAsync(tenant, "reaped", default))!;
        Assert.Equal(WorkspaceStatus.Failed, lake.Status);
        Assert.StartsWith("Apply run failed in Apply: The worker running this run stopped.", lake.StatusReason);
        Assert.EndsWith("Retry to plan again from where the cloud is now.", lake.StatusReason);
        Assert.Equal("killed", await world.ScalarAsync<string>("select ended_by from run_processes where run_id = @id", new { id = run.Id }));
        Assert.Equal(new RecoverySweep(0, 0), await Recovery.SweepAsync(default)); // once is enough
    }

    [Fact]
    public async Task A_process_whose_job_its_worker_still_holds_is_left_alone_and_its_run_keeps_working()
    {
        var (tenant, workspace, run) = await RunInAsync("alive", "applying", "Apply");
        await JobOfDeadWorkerAsync(run.PlanJobId!.Value, reaped: false);
        var working = await LeftoverAsync(run, tenant, "sleep 300");

        Assert.Equal(new RecoverySweep(0, 0), await Recovery.SweepAsync(default));

        Assert.NotEmpty(LeftoverProcesses.Members(working.Identity));
        Assert.Equal(RunStatus.Applying, (await world.Store.RunsAsync(tenant, workspace.Id, 1, default))[0].Status);
        await using var connection = await world.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        Assert.Equal("Another run of this workspace is in progress.", await RunRecovery.WhyBusyAsync(connection, transaction, workspace, default));
    }

    [Fact]
    public async Task Retry_is_refused_while_a_process_of_the_earlier_run_may_still_run_and_accepted_once_it_was_ended()
    {
        // The run failed, but the process it recorded never reported its end and still runs.
        var (tenant, workspace, run) = await RunInAsync("retry", "failed", "Apply");
        await JobOfDeadWorkerAsync(run.PlanJobId!.Value, reaped: true);
        var leftover = await LeftoverAsync(run, tenant, "sleep 300");

        var refused = await world.Commands.RetryAsync(tenant, workspace.Id, run.Id, WorkspaceWorld.Operator, default);
        Assert.False(refused.Succeeded);
        Assert.Contains($"A process of an earlier run ({leftover.Identity}) may still be running", refused.Errors.For("run"));

        await Recovery.SweepAsync(default);

        Assert.Empty(LeftoverProcesses.Members(leftover.Identity));
        Assert.Equal("interrupted", await world.ScalarAsync<string>("select ended_by from run_processes where run_id = @id", new { id = run.Id }));
        Assert.True((await world.Commands.RetryAsync(tenant, workspace.Id, run.Id, WorkspaceWorld.Operator, default)).Succeeded);
    }

    [Fact]
    public async Task A_process_recorded_on_another_system_keeps_its_run_from_being_failed_until_its_lifeline_has_surely_ended_it()
    {
        var (tenant, workspace, run) = await RunInAsync("elsewhere", "applying", "Apply");
        await JobOfDeadWorkerAsync(run.PlanJobId!.Value, reaped: true);
        var elsewhere = new ProcessIdentity("another-boot/pid:[4026531836]", "gone-host", 4242, 12345);
        await world.Get<RunLedger>()
            .RecordProcessStartedAsync(tenant, run.Id, run.PlanJobId!.Value, 1, DeadWorker, TofuStage.Apply, elsewhere, default);

        Assert.Equal(new RecoverySweep(0, 0), await Recovery.SweepAsync(default));
        Assert.Equal(RunStatus.Applying, (await world.Store.RunsAsync(tenant, workspace.Id, 1, default))[0].Status);

        // The job was reaped long ago: the process's own lifeline ended it within the grace period.
        await using (var connection = await world.OpenAsync())
            await connection.ExecuteAsync("update jobs set finished_at = now() - interval '10 minutes' where id = @id", new { id = run.PlanJobId });
        Assert.Equal(new RecoverySweep(0, 1), await Recovery.SweepAsync(default));
        Assert.Equal("presumed", await world.ScalarAsync<string>("select ended_by from run_processes where run_id = @id", new { id = run.Id }));
        Assert.Equal(RunStatus.Failed, (await world.Store.RunsAsync(tenant, workspace.Id, 1, default))[0].Status);
        Assert.DoesNotContain(ProcessTable.All(), p => p.ProcessId == 4242 && p.StartTicks == 12345);
    }
}
