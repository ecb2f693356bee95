using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>
/// Drift against the real tofu-sandbox through the real runner: objects changed or deleted by hand
/// (the sandbox's cloud console, docs/sandbox.md) are found by the next plan's refresh and reported
/// as OpenTofu reports them, and the plan brings them back to the configuration.
/// </summary>
public sealed class SandboxDriftTests
{
    private const string NodeGroup = "module.stack.module.eks.module.eks_managed_node_group[\"default\"].aws_eks_node_group.this[0]";
    private const string Vpc = "module.stack.module.vpc.aws_vpc.this[0]";

    [Fact]
    public async Task A_value_changed_outside_OpenTofu_is_reported_as_drift_and_planned_back()
    {
        using var workspace = await ProvisionedAsync();
        await workspace.ChangeOutsideOpenTofuAsync(changed: new Dictionary<string, JsonObject> { [NodeGroup] = new() { ["max_size"] = 10 } });
        var log = new CollectingRunLog();
        var request = workspace.Request();

        var plan = await workspace.Runner().PlanAsync(request, log, CancellationToken.None);
        TofuRunner.DiscardPlan(request);

        Assert.True(plan.Succeeded, plan.Error);
        Assert.Equal([NodeGroup], plan.Plan!.Drifted);
        Assert.Equal([NodeGroup], plan.Plan.ToChange);
        Assert.Empty(plan.Plan.ToAdd);
        var drift = Assert.Single(log.Lines.Select(l => l.Event).OfType<TofuResourceChangeMessage>(), c => c.IsDrift);
        Assert.Equal((NodeGroup, "update"), (drift.Resource.Address, drift.Action));
        Assert.Equal($"{NodeGroup}: Drift detected (update)", drift.Message);
    }

    [Fact]
    public async Task Show_json_carries_the_drift_with_the_state_value_before_and_the_cloud_value_after()
    {
        using var workspace = await ProvisionedAsync();
        await workspace.ChangeOutsideOpenTofuAsync(changed: new Dictionary<string, JsonObject> { [NodeGroup] = new() { ["max_size"] = 10 } });
        var request = workspace.Request();
        Assert.True((await workspace.Runner().PlanAsync(request, new CollectingRunLog(), CancellationToken.None)).Succeeded);

        var (exitCode, output) = await workspace.TofuAsync(request.WorkingDirectory, "show", "-json", RootModuleWriter.PlanFile);
        TofuRunner.DiscardPlan(request);

        Assert.Equal(0, exitCode);
        var representation = JsonNode.Parse(output)!;
        var drift = Assert.Single(representation["resource_drift"]!.AsArray())!;
        Assert.Equal(NodeGroup, drift["address"]!.GetValue<string>());
        Assert.Equal("module.stack.module.eks.module.eks_managed_node_group[\"default\"]", drift["module_address"]!.GetValue<string>());
        Assert.Equal(["update"], drift["change"]!["actions"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(3, drift["change"]!["before"]!["max_size"]!.GetValue<int>());
        Assert.Equal(10, drift["change"]!["after"]!["max_size"]!.GetValue<int>());
        // The update that brings it back starts from what the refresh found.
        var change = representation["resource_changes"]!.AsArray().Single(c => c!["address"]!.GetValue<string>() == NodeGroup)!;
        Assert.Equal(10, change["change"]!["before"]!["max_size"]!.GetValue<int>());
        Assert.Equal(3, change["change"]!["after"]!["max_size"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_object_deleted_outside_OpenTofu_is_reported_as_drift_and_created_again()
    {
        using var workspace = await ProvisionedAsync();
        await workspace.ChangeOutsideOpenTofuAsync(deleted: [NodeGroup]);
        var log = new CollectingRunLog();
        var request = workspace.Request();

        var plan = await workspace.Runner().PlanAsync(request, log, CancellationToken.None);
        TofuRunner.DiscardPlan(request);

        Assert.True(plan.Succeeded, plan.Error);
        Assert.Equal([NodeGroup], plan.Plan!.Drifted);
        Assert.Equal([NodeGroup], plan.Plan.ToAdd);
        Assert.Empty(plan.Plan.ToChange);
        var drift = Assert.Single(log.Lines.Select(l => l.Event).OfType<TofuResourceChangeMessage>(), c => c.IsDrift);
        Assert.Equal((NodeGroup, "delete"), (drift.Resource.Address, drift.Action));
    }

    [Fact]
    public async Task A_value_changed_by_hand_that_cannot_be_updated_in_place_is_planned_as_a_replacement()
    {
        using var workspace = await ProvisionedAsync();
        await workspace.ChangeOutsideOpenTofuAsync(changed: new Dictionary<string, JsonObject> { [Vpc] = new() { ["cidr_block"] = "10.99.0.0/16" } });
        var request = workspace.Request();

        var plan = await workspace.Runner().PlanAsync(request, new CollectingRunLog(), CancellationToken.None);
        TofuRunner.DiscardPlan(request);

        Assert.True(plan.Succeeded, plan.Error);
        Assert.Equal([Vpc], plan.Plan!.Drifted);
        Assert.Equal([Vpc], plan.Plan.ToReplace);
    }

    [Fact]
    public async Task Applying_the_plan_brings_the_objects_back_and_spends_the_changes_made_by_hand()
    {
        using var workspace = await ProvisionedAsync();
        await workspace.ChangeOutsideOpenTofuAsync(deleted: [Vpc], changed: new Dictionary<string,
            JsonObject>
        { [NodeGroup] = new() { ["max_size"] = 10 } });
        var runner = workspace.Runner();

        var reconcile = await runner.RunAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None);

        Assert.True(reconcile.Succeeded, reconcile.Error);
        Assert.False(File.Exists(workspace.OutsideChangesPath), "the cloud matches the state again: nothing is left changed by hand");
        Assert.Contains(Vpc, SandboxWorkspace.AddressesInState(workspace.StatePath));
        var next = await runner.RunAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None);
        Assert.True(next.Succeeded, next.Error);
        Assert.False(next.Plan!.HasChanges);
        Assert.Empty(next.Plan.Drifted);
    }

    [Fact]
    public async Task A_destroy_plan_does_not_destroy_an_object_already_deleted_outside_OpenTofu()
    {
        using var workspace = await ProvisionedAsync();
        var created = workspace.ResourcesInState();
        await workspace.ChangeOutsideOpenTofuAsync(deleted: [NodeGroup]);

        var destroy = await workspace.Runner().RunAsync(workspace.Request(TofuOperation.Destroy), new CollectingRunLog(), CancellationToken.None);

        Assert.True(destroy.Succeeded, destroy.Error);
        Assert.Equal([NodeGroup], destroy.Plan!.Drifted);
        Assert.DoesNotContain(NodeGroup, destroy.Plan.ToDestroy);
        Assert.Equal(created - 1, destroy.Plan.ToDestroy.Count);
        Assert.Equal(0, workspace.ResourcesInState());
        Assert.False(File.Exists(workspace.OutsideChangesPath));
    }

    [Fact]
    public async Task Without_changes_made_by_hand_a_plan_reports_no_drift()
    {
        using var workspace = await ProvisionedAsync();
        var log = new CollectingRunLog();
        var request = workspace.Request();

        var plan = await workspace.Runner().PlanAsync(request, log, CancellationToken.None);
        TofuRunner.DiscardPlan(request);

        Assert.True(plan.Succeeded, plan.Error);
        Assert.Empty(plan.Plan!.Drifted);
        Assert.DoesNotContain(log.Lines.Select(l => l.Event).OfType<TofuResourceChangeMessage>(), c => c.IsDrift);
    }

    private static async Task<SandboxWorkspace> ProvisionedAsync()
    {
        var workspace = new SandboxWorkspace();
        var provisioned = await workspace.Runner().RunAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None);
        Assert.True(provisioned.Succeeded, provisioned.Error);
        return workspace;
    }
}
