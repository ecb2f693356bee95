using System.Text.Json.Nodes;
using Cogrion.Jobs;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// Runs end to end on the sandbox: the real job engine claims the plan and apply jobs, the real
/// runner drives the real tofu-sandbox, and the workspace and its runs move as the page shows them.
/// </summary>
public sealed class WorkspaceRunTests : IAsyncLifetime
{
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() => world = await WorkspaceWorld.StartAsync(runWorkers: true);

    public async Task DisposeAsync() => await world.DisposeAsync();

    private async Task<(Guid Tenant, Workspace Workspace)> CreateAsync(string slug, string name, ApprovalMode approval)
    {
        var tenant = await world.NewTenantAsync(slug);
        var account = await world.NewAccountAsync(tenant);
        var created = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, name, approval: approval), WorkspaceWorld.Operator,
            default);
        Assert.True(created.Succeeded, string.Join("; ", created.Errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        return (tenant, created.Value!);
    }

    private Task<Workspace> StatusAsync(Guid tenant, string name, WorkspaceStatus status) => world.WorkspaceWithStatusAsync(tenant, name, status);

    private async Task<WorkspaceRun> LatestRunAsync(Guid tenant, Workspace workspace)
        => (await world.Store.RunsAsync(tenant, workspace.Id, 10, default))[0];

    private Task<string> RunLogAsync(WorkspaceRun run) => world.RunLogAsync(run);

    [Fact]
    public async Task A_manual_workspace_plans_waits_for_approval_then_applies_and_becomes_ready()
    {
        var (tenant, workspace) = await CreateAsync("manual", "lake", ApprovalMode.Manual);

        await StatusAsync(tenant, "lake", WorkspaceStatus.AwaitingApproval);
        var planned = await LatestRunAsync(tenant, workspace);
        Assert.Equal(RunStatus.AwaitingApproval, planned.Status);
        Assert.Contains(planned.Plan!.ToAdd, address => address.StartsWith("module.stack.", StringComparison.Ordinal));

        Assert.True((await world.Commands.ApproveAsync(tenant, workspace.Id, planned.Id, WorkspaceWorld.Operator, default)).Succeeded);
        var ready = await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);

        var run = await LatestRunAsync(tenant, workspace);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal("system:test-operator", run.ApprovedBy);
        Assert.Contains(run.StageTimings, t => t.Stage == "Apply" && t.Succeeded);
        Assert.False(string.IsNullOrEmpty(ready.Outputs!["cluster_name"]));
        Assert.Contains("completed", await RunLogAsync(run));
    }

    [Fact]
    public async Task An_approval_that_reaches_a_worker_without_the_saved_plan_plans_again_and_applies_the_same_changes()
    {
        var (tenant, workspace) = await CreateAsync("elsewhere", "lake", ApprovalMode.Manual);
        await StatusAsync(tenant, "lake", WorkspaceStatus.AwaitingApproval);
        var planned = await LatestRunAsync(tenant, workspace);
        Assert.False(string.IsNullOrEmpty(planned.Plan!.Fingerprint));
        // As on another replica, or after a restart: the working directory with the saved plan is gone.
        Directory.Delete(Path.Combine(world.WorkRoot, "workspaces", workspace.Id.ToString("n"), planned.Id.ToString("n")), recursive: true);

        Assert.True((await world.Commands.ApproveAsync(tenant, workspace.Id, planned.Id, WorkspaceWorld.Operator, default)).Succeeded);
        await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);

        var run = await LatestRunAsync(tenant, workspace);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        var log = await RunLogAsync(run);
        Assert.Contains("planning again", log);
        Assert.Contains("makes exactly the approved changes", log);
        // Each plan mints its own agent token: the second one is the one the cluster received.
        Assert.Equal(2, world.Tokens.Count);
    }

    [Fact]
    public async Task An_approval_is_not_applied_when_the_plan_made_again_differs_from_the_approved_one()
    {
        var (tenant, workspace) = await CreateAsync("changed", "lake", ApprovalMode.Manual);
        await StatusAsync(tenant, "lake", WorkspaceStatus.AwaitingApproval);
        var planned = await LatestRunAsync(tenant, workspace);
        Directory.Delete(Path.Combine(world.WorkRoot, "workspaces", workspace.Id.ToString("n"), planned.Id.ToString("n")), recursive: true);
        // Something changed between the review and the apply: the same resources, other values. The
        // headline ("N to add") stays the same, which is why approvals compare fingerprints.
        await using (var connection = await world.OpenAsync())
            await connection.ExecuteAsync("update workspaces set kubernetes_version = '1.30' where id = @id", new { id = workspace.Id });

        Assert.True((await world.Commands.ApproveAsync(tenant, workspace.Id, planned.Id, WorkspaceWorld.Operator, default)).Succeeded);
        var failed = await StatusAsync(tenant, "lake", WorkspaceStatus.Failed);

        var run = await LatestRunAsync(tenant, workspace);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("The plan changed after it was approved", run.Error);
        Assert.Contains("Nothing was changed in the cloud", run.WorkspaceState);
        Assert.DoesNotContain(run.StageTimings, t => t.Stage == "Apply");
        Assert.Null(failed.Outputs);
    }

    [Fact]
    public async Task A_rejected_plan_changes_nothing_and_deletes_the_saved_plan()
    {
        var (tenant, workspace) = await CreateAsync("rejected", "lake", ApprovalMode.Manual);
        await StatusAsync(tenant, "lake", WorkspaceStatus.AwaitingApproval);
        var run = await LatestRunAsync(tenant, workspace);

        Assert.True((await world.Commands.RejectAsync(tenant, workspace.Id, run.Id, WorkspaceWorld.Operator, default)).Succeeded);

        Assert.Equal(WorkspaceStatus.Pending, (await world.Store.FindByNameAsync(tenant, "lake", default))!.Status);
        Assert.Equal(RunStatus.Rejected, (await LatestRunAsync(tenant, workspace)).Status);
        Assert.False(Directory.Exists(Path.Combine(world.WorkRoot, "workspaces", workspace.Id.ToString("n"), run.Id.ToString("n"))));
    }

    [Fact]
    public async Task A_failed_apply_keeps_its_log_error_and_stage_and_can_be_retried()
    {
        var (tenant, workspace) = await CreateAsync("failing", "fail-apply-lake", ApprovalMode.Automatic);

        var failed = await StatusAsync(tenant, "fail-apply-lake", WorkspaceStatus.Failed);
        var run = await LatestRunAsync(tenant, workspace);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("Apply", run.Stage);
        Assert.Contains("CREATE_FAILED", run.Error);
        Assert.Contains("resources before the failure exist", run.WorkspaceState);
        Assert.Contains("failed in Apply", failed.StatusReason);
        Assert.Contains("CREATE_FAILED", await RunLogAsync(run));
        Assert.Equal("failed", await world.ScalarAsync<string>("select state from jobs where id = @id", new { id = run.PlanJobId }));

        var retried = await world.Commands.RetryAsync(tenant, workspace.Id, run.Id, WorkspaceWorld.Operator, default);
        Assert.True(retried.Succeeded);
        Assert.Equal(2, (await world.Store.RunsAsync(tenant, workspace.Id, 10, default)).Count);
    }

    [Fact]
    public async Task A_ready_workspace_is_destroyed_only_with_its_name_typed()
    {
        var (tenant, workspace) = await CreateAsync("destroying", "lake", ApprovalMode.Automatic);
        await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);

        var refused = await world.Commands.DestroyAsync(tenant, workspace.Id, "Lake", WorkspaceWorld.Operator, default);
        Assert.NotNull(refused.Errors.For("confirmation"));

        Assert.True((await world.Commands.DestroyAsync(tenant, workspace.Id, "lake", WorkspaceWorld.Operator, default)).Succeeded);
        await StatusAsync(tenant, "lake", WorkspaceStatus.Destroyed);
        var run = await LatestRunAsync(tenant, workspace);
        Assert.Equal(RunKind.Destroy, run.Kind);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.NotEmpty(run.Plan!.ToDestroy);
        // The name is free again.
        Assert.Equal(0,
            await world.CountAsync("select count(*) from workspaces where tenant_id = @tenant and status <> 'destroyed'", new { tenant }));
    }

    [Fact]
    public async Task A_cancelled_run_ends_cancelled_and_the_workspace_says_what_state_it_may_be_in()
    {
        var (tenant, workspace) = await CreateAsync("cancelling", "slow-lake", ApprovalMode.Automatic);
        var applying = await Eventually.ValueAsync(() => LatestRunAsync(tenant, workspace), r => r.Status == RunStatus.Applying,
            "the apply to start");

        Assert.True((await world.Commands.CancelAsync(tenant, workspace.Id, applying.Id, WorkspaceWorld.Operator, default)).Succeeded);

        var run = await Eventually.ValueAsync(() => LatestRunAsync(tenant, workspace), r => !r.IsActive, "the run to stop");
        Assert.Equal(RunStatus.Cancelled, run.Status);
        var stopped = (await world.Store.FindByNameAsync(tenant, "slow-lake", default))!;
        Assert.Contains("cancelled", stopped.StatusReason);
        Assert.NotNull(run.WorkspaceState);
    }

    [Fact]
    public async Task The_bootstrap_token_reaches_the_cluster_but_no_table_log_job_or_file_of_the_portal()
    {
        var (tenant, workspace) = await CreateAsync("secrets", "lake", ApprovalMode.Automatic);
        await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);

        var token = Assert.Single(world.Tokens);
        Assert.StartsWith("cgb_", token);

        await using var connection = await world.OpenAsync();
        var everything = string.Join('\n', await connection.QueryAsync<string>("""
            select arguments::text || coalesce(last_error, '') from jobs
            union all select line from job_logs
            union all select coalesce(error, '') from job_attempts
            union all select details::text from audit_events
            union all select r::text from workspace_runs r
            union all select w::text from workspaces w
            union all select b::text from agent_bootstrap_tokens b
            """));
        Assert.DoesNotContain(token, everything);
        Assert.Contains("kubectl_manifest.bootstrap_token", everything); // the log did name the secret's resource, without its value
        // It did reach the cluster: the bootstrap Secret the simulated cluster keeps holds it (base64, as Kubernetes stores it).
        var cluster = await File.ReadAllTextAsync(Path.Combine(world.StateRoot, workspace.Id.ToString("n"), "cluster", "objects.json"));
        Assert.Contains(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(token)), cluster);
        foreach (var file in Directory.Exists(world.WorkRoot) ? Directory.EnumerateFiles(world.WorkRoot, "*", SearchOption.AllDirectories) : [])
            Assert.DoesNotContain(token, await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task An_aws_run_without_OpenTofu_installed_fails_saying_what_to_install()
    {
        var tenant = await world.NewTenantAsync("aws-no-tofu");
        var account = await world.NewAccountAsync(tenant, provider: "aws");
        var input = WorkspaceWorld.Valid(account, "lake", region: "eu-central-1", approval: ApprovalMode.Automatic);
        var workspace = (await world.Commands.CreateAsync(tenant, input, WorkspaceWorld.Operator, default)).Value!;

        await StatusAsync(tenant, "lake", WorkspaceStatus.Failed);
        var run = await LatestRunAsync(tenant, workspace);
        // The first stage of a first run in an account and region is the state backend, and it needs tofu too.
        Assert.Equal("StateBackend", run.Stage);
        Assert.Contains("opentofu.org", run.Error);
    }

    [Fact]
    public async Task A_drift_check_of_an_unchanged_workspace_leaves_it_ready()
    {
        var (tenant, workspace) = await CreateAsync("no-drift", "lake", ApprovalMode.Automatic);
        await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);

        await world.Get<JobQueue>()
            .EnqueueAsync(world.Get<NpgsqlDataSource>(), new DriftScanJob(), new EnqueueOptions { CreatedBy = WorkspaceWorld.Operator.Label },
            default);

        var run = await Eventually.ValueAsync(() => LatestRunAsync(tenant, workspace), r => r.Kind == RunKind.Drift && !r.IsActive, "the drift run");
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.False(run.Plan!.HasChanges);
        Assert.Equal(WorkspaceStatus.Ready, (await world.Store.FindByNameAsync(tenant, "lake", default))!.Status);
    }

    [Fact]
    public async Task A_resource_changed_outside_OpenTofu_marks_the_workspace_drifted_with_what_changed_and_the_diff()
    {
        var (tenant, workspace) = await CreateAsync("drift", "lake", ApprovalMode.Automatic);
        await StatusAsync(tenant, "lake", WorkspaceStatus.Ready);
        // Someone raised the node group's maximum by hand, in the (simulated) cloud console.
        const string nodeGroup = "module.stack.module.eks.module.eks_managed_node_group[\"default\"].aws_eks_node_group.this[0]";
        var outside = Path.Combine(world.StateRoot, workspace.Id.ToString("n"), "terraform.tfstate.outside.json");
        await File.WriteAllTextAsync(outside,
            new JsonObject { ["changed"] = new JsonObject { [nodeGroup] = new JsonObject { ["max_size"] = 10 } } }.ToJsonString());

        await world.Get<JobQueue>()
            .EnqueueAsync(world.Get<NpgsqlDataSource>(), new DriftScanJob(), new EnqueueOptions { CreatedBy = WorkspaceWorld.Operator.Label },
            default);

        var drifted = await StatusAsync(tenant, "lake", WorkspaceStatus.Drifted);
        Assert.Contains("Drift detected: 1 object changed outside OpenTofu.", drifted.StatusReason);
        var run = await LatestRunAsync(tenant, workspace);
        Assert.Equal(RunKind.Drift, run.Kind);
        Assert.Equal([nodeGroup], run.Plan!.Drifted);
        Assert.Equal([nodeGroup], run.Plan.ToChange);
        Assert.Contains($"{nodeGroup}: has changed outside of OpenTofu", await RunLogAsync(run));
    }
}
