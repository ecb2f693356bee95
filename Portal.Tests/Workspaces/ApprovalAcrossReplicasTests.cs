using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// An approval that lands after the replica that planned has gone (ADR 0046), with two real Portal
/// processes that share the database and nothing else: each has its own working directory, as
/// replicas on different machines would.
/// </summary>
public sealed class ApprovalAcrossReplicasTests : IAsyncLifetime
{
    private WorkspaceWorld world = null!;

    // This test's own process only writes and reads the database; the replicas run the jobs.
    public async Task InitializeAsync() => world = await WorkspaceWorld.StartAsync(runWorkers: false);

    public async Task DisposeAsync() => await world.DisposeAsync();

    private Dictionary<string, string?> Replica(string name) => new()
    {
        ["OpenTofu:WorkRoot"] = Path.Combine(world.WorkRoot, name),
        ["OpenTofu:SandboxSpeed"] = "5000",
        ["Provisioning:SandboxStateRoot"] = world.StateRoot,
        ["Provisioning:DriftInterval"] = "00:00:00",
        ["Jobs:PollInterval"] = "00:00:01",
    };

    [Fact]
    public async Task A_plan_approved_after_its_replica_stopped_is_planned_again_and_applied_by_another_replica()
    {
        var tenant = await world.NewTenantAsync("replicas");
        var account = await world.NewAccountAsync(tenant);
        var workspace = (await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "lake"), WorkspaceWorld.Operator, default)).Value!;

        await using (await world.StartWorkerAsync(Replica("planner")))
        {
            await world.WorkspaceWithStatusAsync(tenant, "lake", WorkspaceStatus.AwaitingApproval);
        }
        var planned = (await world.Store.RunsAsync(tenant, workspace.Id, 10, default))[0];
        Assert.True(File.Exists(Path.Combine(world.WorkRoot, "planner", "workspaces", workspace.Id.ToString("n"), planned.Id.ToString("n"),
            "plan.tfplan")));

        Assert.True((await world.Commands.ApproveAsync(tenant, workspace.Id, planned.Id, WorkspaceWorld.Operator, default)).Succeeded);
        await using var applier = await world.StartWorkerAsync(Replica("applier"));
        await world.WorkspaceWithStatusAsync(tenant, "lake", WorkspaceStatus.Ready);

        var run = (await world.Store.RunsAsync(tenant, workspace.Id, 10, default))[0];
        Assert.Equal((planned.Id, RunStatus.Succeeded), (run.Id, run.Status));
        var log = await world.RunLogAsync(run);
        Assert.Contains("The saved plan is not on this worker", log);
        Assert.Contains("makes exactly the approved changes", log);
    }
}
