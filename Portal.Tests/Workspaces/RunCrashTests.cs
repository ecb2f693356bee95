using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cogrion.Lifeline;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Processes;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// Issue 12's crash, with real processes: a Portal process is SIGKILLed while its sandbox run applies,
/// then another Portal starts on the same database and machine. Nothing the dead Portal started is left
/// running, the workspace never has two applies at once (the simulator journals every apply of a
/// state), the run ends failed in the stage it was in and the workspace says so, and a retry succeeds.
/// This test's own process only writes and reads the database; the Portal processes run the jobs.
/// </summary>
public sealed class RunCrashTests : IAsyncLifetime
{
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() => world = await WorkspaceWorld.StartAsync(runWorkers: false, services: TestAuthentication.Register);

    public async Task DisposeAsync() => await world.DisposeAsync();

    /// <summary>A worker Portal on the shared database and machine that may be killed (<see cref="WorkspaceWorld.CrashableWorkerSettings"/>).
    /// </summary>
    private Task<PortalProcess> StartWorkerAsync(double speed, bool tofuIgnoresInterrupt = false)
    {
        var settings = world.CrashableWorkerSettings(speed);
        // Passed on to tofu-sandbox (TOFU_SANDBOX_* reach it): an OpenTofu that does not stop on SIGINT.
        settings["TOFU_SANDBOX_IGNORE_INTERRUPT"] = tofuIgnoresInterrupt ? "1" : "0";
        return world.StartWorkerAsync(settings);
    }

    private async Task<(Guid Tenant, Workspace Workspace)> WorkspaceAsync(string slug)
    {
        var tenant = await world.NewTenantAsync(slug);
        var account = await world.NewAccountAsync(tenant);
        var created = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "lake", approval: ApprovalMode.Automatic),
            WorkspaceWorld.Operator, default);
        return (tenant, created.Value!);
    }

    /// <summary>Starts a worker, waits until the workspace's apply runs under it, and SIGKILLs the Portal alone (no shutdown hook runs).</summary>
    private async Task<ProcessIdentity> KillMidApplyAsync(Guid workspaceId, bool tofuIgnoresInterrupt = false)
    {
        await using var doomed = await StartWorkerAsync(speed: 40, tofuIgnoresInterrupt);
        var apply = await Eventually.ValueAsync(() => OpenApplyProcessAsync(workspaceId), p => p is not null, "the apply to start",
            TimeSpan.FromMinutes(2));
        // Let it change the state first, as in the issue (state serial 1 at the kill).
        await Eventually.ValueAsync(() => Task.FromResult(JournalOf(workspaceId).Count(e => e["event"]!.GetValue<string>() == "start")), n => n == 1,
            "the apply to begin writing");
        Assert.Contains(LeftoverProcesses.Members(apply!), p => CommandLineOf(p.ProcessId).Contains("tofu-sandbox", StringComparison.Ordinal));

        Process.GetProcessById(doomed.ProcessId).Kill();
        Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        return apply!;
    }

    private async Task<ProcessIdentity?> OpenApplyProcessAsync(Guid workspaceId)
    {
        await using var connection = await world.OpenAsync();
        return await connection.QueryFirstOrDefaultAsync<ProcessIdentity>("""
            select p.system, p.host, p.process_id, p.start_ticks from run_processes p join workspace_runs r on r.id = p.run_id
            where r.workspace_id = @workspaceId and p.stage = 'Apply' and p.ended_at is null
            """, new { workspaceId });
    }

    private string StatePathOf(Guid workspaceId) => Path.Combine(world.StateRoot, workspaceId.ToString("n"), "terraform.tfstate");

    /// <summary>The simulator's apply journal of the workspace's state (docs/sandbox.md).</summary>
    private List<JsonObject> JournalOf(Guid workspaceId)
    {
        var path = StatePathOf(workspaceId) + ".applies.jsonl";
        return File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList() : [];
    }

    /// <summary>Never two applies of one state at once: no apply started while another was running, and no two journalled intervals
    /// overlap.</summary>
    private void AssertNoConcurrentApplies(Guid workspaceId)
    {
        var journal = JournalOf(workspaceId);
        Assert.All(journal.Where(e => e["event"]!.GetValue<string>() == "start"), e => Assert.Empty(e["concurrent_with"]!.AsArray()));
        var intervals = journal.GroupBy(e => e["apply"]!.GetValue<string>()).Select(g => (
            Start: DateTimeOffset.Parse(g.Single(e => e["event"]!.GetValue<string>() == "start")["at"]!.GetValue<string>()),
            End: g.FirstOrDefault(e => e["event"]!.GetValue<string>() == "end")?["at"]?.GetValue<string>() is { } end ? DateTimeOffset.Parse(end)
                : (DateTimeOffset?)null))
            .OrderBy(i => i.Start).ToList();
        for (var i = 1; i < intervals.Count; i++)
        {
            // A killed apply has no end: the next one may only start once its lock was released by hand.
            if (intervals[i - 1].End is { } previousEnd) Assert.True(previousEnd <= intervals[i].Start,
                $"apply {i} started before apply {i - 1} ended");
        }
    }

    private static string CommandLineOf(int processId)
    {
        try { return File.ReadAllText($"/proc/{processId}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return ""; }
    }

    /// <summary>Every tofu-sandbox (or lifeline) running in a working directory of this test's runs.</summary>
    private List<int> SandboxProcessesUnderWorkRoot() => ProcessTable.All()
        .Where(p => p.IsRunning && CommandLineOf(p.ProcessId) is var command
            && (command.Contains("tofu-sandbox", StringComparison.Ordinal) || command.Contains("cogrion-lifeline", StringComparison.Ordinal)))
        .Where(p => new DirectoryInfo($"/proc/{p.ProcessId}/cwd").LinkTarget is { } cwd && cwd.StartsWith(world.WorkRoot, StringComparison.Ordinal))
        .Select(p => p.ProcessId).ToList();

    private Task<WorkspaceRun> LatestRunAsync(Guid tenant, Guid workspaceId, Func<WorkspaceRun, bool> accept, string what) =>
        Eventually.ValueAsync(async () => (await world.Store.RunsAsync(tenant, workspaceId, 1, default))[0], accept, what, TimeSpan.FromMinutes(2));

    [Fact]
    public async Task A_portal_killed_mid_apply_leaves_nothing_running_its_run_fails_in_apply_saying_why_and_a_retry_succeeds()
    {
        var (tenant, workspace) = await WorkspaceAsync("crash");

        var apply = await KillMidApplyAsync(workspace.Id);

        // With no Portal running at all, the lifeline alone ends the apply: interrupted, so it saved its state and released its lock.
        await Eventually.ValueAsync(() => Task.FromResult(LeftoverProcesses.Members(apply).Count), n => n == 0, "the dead Portal's apply to end");
        var interrupted = JournalOf(workspace.Id).Single(e => e["event"]!.GetValue<string>() == "end");
        Assert.Equal(1, interrupted["exit_code"]!.GetValue<int>());
        Assert.False(File.Exists(StatePathOf(workspace.Id) + ".tflock"));
        Assert.Equal(WorkspaceStatus.Provisioning, (await world.Store.FindByNameAsync(tenant, "lake", default))!.Status); // nobody has looked yet

        await using var survivor = await StartWorkerAsync(speed: 5000);
        var failed = await LatestRunAsync(tenant, workspace.Id, r => r.Status == RunStatus.Failed, "the run to be failed by the restarted worker");

        Assert.Equal("Apply", failed.Stage);
        Assert.Contains("The worker running this run stopped", failed.Error);
        Assert.Contains("stopped renewing its lease", failed.Error);
        Assert.NotNull(failed.WorkerLostAt);
        Assert.Contains("The apply was interrupted", failed.WorkspaceState);
        var lake = (await world.Store.FindByNameAsync(tenant, "lake", default))!;
        Assert.Equal(WorkspaceStatus.Failed, lake.Status);
        Assert.Contains("failed in Apply", lake.StatusReason);
        Assert.Contains("Retry", lake.StatusReason);
        Assert.Equal(0, await world.CountAsync("select count(*) from run_processes where ended_at is null"));
        Assert.Empty(SandboxProcessesUnderWorkRoot());
        Assert.Equal(1, await world.CountAsync(
            "select count(*) from audit_events where action = 'workspace.run_failed' and target_id = @id and details->>'workerLost' = 'true'",
                new { id = workspace.Id.ToString() }));

        var retried = await world.Commands.RetryAsync(tenant, workspace.Id, failed.Id, WorkspaceWorld.Operator, default);
        Assert.True(retried.Succeeded, string.Join("; ", retried.Errors.ToDictionary().SelectMany(e => e.Value)));
        await world.WorkspaceWithStatusAsync(tenant, "lake", WorkspaceStatus.Ready);
        AssertNoConcurrentApplies(workspace.Id);
        Assert.Equal(2, JournalOf(workspace.Id).Count(e => e["event"]!.GetValue<string>() == "start"));
        Assert.Empty(SandboxProcessesUnderWorkRoot());
    }

    [Fact]
    public async Task An_apply_that_outlived_its_portal_and_was_killed_leaves_its_lock_which_an_operator_releases_by_typing_the_name()
    {
        var (tenant, workspace) = await WorkspaceAsync("stuck");
        var operatorUser = await world.OperatorOfAsync(tenant, "olga");

        // This OpenTofu ignores SIGINT: the lifeline kills it after the grace period, and its lock stays.
        var apply = await KillMidApplyAsync(workspace.Id, tofuIgnoresInterrupt: true);
        await Eventually.ValueAsync(() => Task.FromResult(LeftoverProcesses.Members(apply).Count), n => n == 0, "the lifeline to kill the apply");
        Assert.True(File.Exists(StatePathOf(workspace.Id) + ".tflock"));

        await using var survivor = await StartWorkerAsync(speed: 5000);
        var lost = await LatestRunAsync(tenant, workspace.Id, r => r.Status == RunStatus.Failed, "the run to be failed by the restarted worker");
        Assert.True((await world.Commands.RetryAsync(tenant, workspace.Id, lost.Id, WorkspaceWorld.Operator, default)).Succeeded);

        // The retry's plan finds the state locked and says by whom and since when, in OpenTofu's own words.
        var locked = await LatestRunAsync(tenant, workspace.Id, r => r.Id != lost.Id && r.Status == RunStatus.Failed,
            "the retry to fail on the lock");
        Assert.Equal("Plan", locked.Stage);
        var held = locked.StateLock!;
        Assert.Equal("OperationTypeApply", held.Operation);
        Assert.Contains($"locked by an apply by {held.Who} since ", locked.Error);
        Assert.Contains("Error: Error acquiring the state lock", await world.RunLogAsync(locked));
        Assert.Contains($"lock ID {held.Id}", (await world.Store.FindByNameAsync(tenant, "lake", default))!.StatusReason);
        AssertNoConcurrentApplies(workspace.Id);

        using var client = world.Portal.CreateClient();
        async Task<HttpResponseMessage> ReleaseAsync(string lockId, string confirmation) => await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants/stuck/workspaces/lake/state-lock/release")
            {
                Content = JsonContent.Create(new { lockId, confirmation }),
            }.As(operatorUser));

        var unconfirmed = await ReleaseAsync(held.Id, "lak");
        Assert.Equal(HttpStatusCode.BadRequest, unconfirmed.StatusCode);
        Assert.Contains("Type the workspace's name, lake, to confirm.", await unconfirmed.Content.ReadAsStringAsync());
        Assert.True(File.Exists(StatePathOf(workspace.Id) + ".tflock"));

        var accepted = await ReleaseAsync(held.Id, "lake");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var unlock = await LatestRunAsync(tenant, workspace.Id, r => r.Kind == RunKind.Unlock && r.Status == RunStatus.Succeeded,
            "the lock to be released");
        Assert.Equal(held.Id, unlock.StateLock!.Id);
        Assert.False(File.Exists(StatePathOf(workspace.Id) + ".tflock"));
        Assert.Contains("OpenTofu state has been successfully unlocked!", await world.RunLogAsync(unlock));
        Assert.Equal(1, await world.CountAsync("""
            select count(*) from audit_events
            where action = 'workspace.state_lock_release_requested' and target_id = @id and actor_id = @user and details->>'lockId' = @lockId
            """, new { id = workspace.Id.ToString(), user = operatorUser.Id.ToString(), lockId = held.Id }));

        Assert.True((await world.Commands.RetryAsync(tenant, workspace.Id, locked.Id, WorkspaceWorld.Operator, default)).Succeeded);
        await world.WorkspaceWithStatusAsync(tenant, "lake", WorkspaceStatus.Ready);
        AssertNoConcurrentApplies(workspace.Id);
        Assert.Empty(SandboxProcessesUnderWorkRoot());
    }
}
