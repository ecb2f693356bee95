using Cogrion.Portal.Features.Offboarding;

namespace Cogrion.Portal.Tests.Components.Offboarding;

/// <summary>The "Leave Cogrion" form, the progress page's words, and the cloud role removal instructions, without a browser.</summary>
public sealed class OffboardingViewTests
{
    private static readonly Guid Root = Guid.NewGuid();
    private static readonly Guid Lake = Guid.NewGuid();
    private static readonly Guid Pond = Guid.NewGuid();

    private static OffboardingPlan Plan() => new(
        [new PlannedTenant(Root, null, "acme", "Acme", 0), new PlannedTenant(Guid.NewGuid(), Root, "acme-lab", "Lab", 1)],
        [new PlannedMember(Root, Guid.NewGuid(), "ada", "ada@example.com", "admin")],
        [
            new PlannedWorkspace(Lake, Root, "lake", "ready", "sandbox", Guid.NewGuid(), "sandbox",
                [new PlannedApp("superset", "superset", "0.14.2")]),
            new PlannedWorkspace(Pond, Root, "pond", "ready", "aws", Guid.NewGuid(), "prod", []),
        ],
        [new PlannedAccount(Guid.NewGuid(), Root, "aws", "prod", "123456789012", "arn:aws:iam::123456789012:role/ops/cogrion-provisioner")],
        []);

    [Fact]
    public void No_workspace_has_a_fate_until_the_admin_chooses_and_unchosen_ones_are_left_out_of_the_request()
    {
        var form = new LeaveForm(Plan());
        Assert.All(form.Fates.Values, Assert.Null);

        form.Fates[Lake] = WorkspaceFate.Destroy;
        form.Confirmation = "acme";
        var request = form.ToRequest();

        Assert.Equal(WorkspaceFate.Destroy, Assert.Single(request.Fates).Value);
        Assert.Equal(1, form.Destroying);
        Assert.Equal(PurgeTiming.AfterRetention, request.Purge);
        Assert.Equal("ada", Assert.Single(form.MembersOf(Root)).Username);
    }

    [Fact]
    public void Steps_before_the_current_one_are_done_and_a_purged_offboarding_is_done_everywhere()
    {
        var running = Record(OffboardingStatus.Running, OffboardingStep.Revoke);
        Assert.Equal(StepState.Done, OffboardingView.StateOf(running, OffboardingStep.Export));
        Assert.Equal(StepState.Current, OffboardingView.StateOf(running, OffboardingStep.Revoke));
        Assert.Equal(StepState.Waiting, OffboardingView.StateOf(running, OffboardingStep.Purge));
        Assert.Equal("running", OffboardingView.StatusText(running));

        Assert.Equal(StepState.Waiting,
            OffboardingView.StateOf(Record(OffboardingStatus.AwaitingPurge, OffboardingStep.Purge), OffboardingStep.Purge));
        var purged = Record(OffboardingStatus.Purged, OffboardingStep.Done);
        Assert.All(OffboardingView.Steps, s => Assert.Equal(StepState.Done, OffboardingView.StateOf(purged, s)));
        Assert.Equal(7, OffboardingView.Steps.Count);
    }

    [Fact]
    public void The_role_to_delete_is_the_last_segment_of_its_arn_given_as_cli_and_opentofu()
    {
        var removal = RoleRemoval.For(Plan().Accounts[0]);
        Assert.Equal("cogrion-provisioner", removal.RoleName);
        Assert.Contains("aws iam delete-role --role-name cogrion-provisioner", removal.Cli);
        Assert.Contains("tofu destroy -target=aws_iam_role_policy.cogrion_provisioning -target=aws_iam_role.cogrion", removal.OpenTofu);

        var ali = RoleRemoval.For(new PlannedAccount(Guid.NewGuid(), Root, "alicloud", "cn", "1", "acs:ram::1:role/cogrion-ops"));
        Assert.Contains("aliyun ram DeleteRole --RoleName cogrion-ops", ali.Cli);
        Assert.Equal("cogrion-provisioner", RoleRemoval.RoleNameOf("", "cogrion-provisioner"));
    }

    [Fact]
    public void An_offline_agent_is_removed_by_hand_with_the_installs_own_names()
    {
        var commands = UninstallAgentsStep.ManualRemoval("prod-eu", "is offline");
        Assert.Contains("kubectl delete namespace cogrion-agent --ignore-not-found", commands);
        Assert.Contains("kubectl delete clusterrolebinding cogrion-agent cogrion-support-reader --ignore-not-found", commands);
        Assert.Contains("kubectl delete clusterrole cogrion-agent cogrion-agent-workload cogrion-support-reader --ignore-not-found", commands);
    }

    private static OffboardingRecord Record(OffboardingStatus status, OffboardingStep step) => new(Guid.NewGuid(), Root, [Root], status, step,
        null, "ada", DateTimeOffset.UnixEpoch, null, Plan(), new Dictionary<OffboardingStep, StepReport>(), new Dictionary<Guid, string?>(), null,
        false, null, null, null, null, null);
}
