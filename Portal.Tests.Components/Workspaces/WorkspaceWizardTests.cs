using System.Text.Json.Nodes;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Cogrion.Portal.Features.Workspaces.Wizard;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Tests.Components.Workspaces;

/// <summary>
/// The workspace wizard's logic without its page: which step may open, which errors a step shows, the
/// network it suggests and the inputs the review shows. The Portal's answers (networks in use, the
/// state backend) come from an in-memory <see cref="IWorkspaceWizardQueries"/>; the real one is
/// exercised by the browser test of the whole lifecycle.
/// </summary>
public sealed class WorkspaceWizardTests
{
    private static readonly Guid TenantId = Guid.NewGuid();

    private sealed class Answers : IWorkspaceWizardQueries
    {
        public List<string> Networks { get; } = [];
        public HashSet<string> TakenNames { get; } = [];
        public int NetworkQueries { get; private set; }

        public Task<(IReadOnlyList<string> Networks, bool NameTaken)> RuleInputsAsync(Guid tenantId, Guid? accountId, string? region, string? name,
            CancellationToken cancellationToken)
        {
            NetworkQueries++;
            return Task.FromResult<(IReadOnlyList<string>, bool)>((Networks, name is not null && TakenNames.Contains(name)));
        }

        public Task<string?> StateBackendNoteAsync(Guid tenantId, CloudAccount account, string region, CancellationToken cancellationToken) =>
            Task.FromResult<string?>($"State: bucket in {region}.");

        public JsonObject PreviewVariables(Guid tenantId, CloudProvider provider, NewWorkspace input) => new()
        {
            ["workspace_name"] = input.Name,
            ["network_cidr"] = input.NetworkCidr,
            ["workspace_id"] = Guid.Empty.ToString(),
        };
    }

    private static CloudAccount Account(CloudProvider provider, CloudAccountStatus status = CloudAccountStatus.Verified, string name = "main") =>
        new(Guid.NewGuid(), TenantId, provider, name, "123456789012", "", "ext", status, null, null, null, DateTimeOffset.UnixEpoch);

    private static readonly KubernetesCalendars Calendars = KubernetesCalendars.Load(Path.Combine(AppContext.BaseDirectory, "KubernetesVersions"));

    /// <summary>The versions on offer as they were on <paramref name="day"/> (the shipped calendars, a fixed clock).</summary>
    private static KubernetesVersionPolicy VersionsOn(DateOnly day) => new(Calendars,
        new FixedClock(new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero)), Options.Create(new KubernetesVersionsOptions()));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static WorkspaceWizard Wizard(Answers answers, params CloudAccount[] accounts) => Wizard(answers, new DateOnly(2026, 12, 6), accounts);

    private static WorkspaceWizard Wizard(Answers answers, DateOnly day, params CloudAccount[] accounts) =>
        new(TenantId, "acme.cogrion.test", accounts, answers, VersionsOn(day));

    [Fact]
    public void The_wizard_offers_only_the_versions_in_standard_support_on_the_chosen_provider_with_the_newest_chosen()
    {
        var aws = Account(CloudProvider.Aws);
        var ali = Account(CloudProvider.AliCloud, name: "ali");
        var wizard = Wizard(new Answers(), new DateOnly(2026, 11, 20), aws, ali);

        // On 2026-11-20 EKS still supports 1.34 (until 2026-12-02); 1.33 ended on 2026-07-29.
        Assert.Equal(["1.35", "1.34"], wizard.KubernetesVersions);
        Assert.Equal("1.35", wizard.Model.KubernetesVersion);
        Assert.Equal("Amazon EKS", wizard.KubernetesPlatform);

        wizard.SelectAccount(ali.Id);
        Assert.Equal(["1.36", "1.35"], wizard.KubernetesVersions);
        Assert.Equal("1.36", wizard.Model.KubernetesVersion);
    }

    [Fact]
    public async Task A_version_no_longer_offered_is_refused_on_its_step_naming_the_offered_ones()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Sandbox));
        Assert.Equal(["1.35"], wizard.KubernetesVersions);
        Assert.Contains("follows Amazon EKS", wizard.KubernetesPlatform);
        Assert.True(await wizard.NextAsync(default));
        Assert.True(await wizard.NextAsync(default));
        wizard.Model.Name = "lake";
        wizard.Model.KubernetesVersion = "1.32";

        Assert.False(await wizard.NextAsync(default));
        Assert.Equal(WorkspaceWizard.NameStep, wizard.Step);
        Assert.Equal("Kubernetes 1.32 left standard support on the sandbox (which follows Amazon EKS) on 2026-03-23. Choose one of: 1.35.",
            wizard.Errors.For("kubernetesVersion"));
    }

    [Fact]
    public void A_verified_account_is_chosen_first_and_its_providers_first_offers_follow()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Aws, CloudAccountStatus.Pending, "new"),
            Account(CloudProvider.Sandbox, name: "sandbox"));

        Assert.Equal("sandbox", wizard.SelectedAccount!.Name);
        Assert.True(wizard.IsSimulated);
        Assert.Equal(CloudRegions.For(CloudProvider.Sandbox)[0].Code, wizard.Model.Region);
        Assert.Equal(WorkspaceCatalog.InstanceTypes(CloudProvider.Sandbox)[0], wizard.Model.NodePools[0].InstanceType);
    }

    [Fact]
    public void Choosing_a_provider_without_Karpenter_turns_Karpenter_off_and_resets_the_region()
    {
        var aws = Account(CloudProvider.Aws);
        var ali = Account(CloudProvider.AliCloud, name: "ali");
        var wizard = Wizard(new Answers(), aws, ali);
        wizard.Model.UseKarpenter = true;

        wizard.SelectAccount(ali.Id);

        Assert.False(wizard.Model.UseKarpenter);
        Assert.False(wizard.SupportsKarpenter);
        Assert.Equal(CloudRegions.For(CloudProvider.AliCloud)[0].Code, wizard.Model.Region);
        Assert.Equal("alicloud", wizard.ModuleFolder);
    }

    [Fact]
    public async Task An_unverified_account_keeps_the_wizard_on_its_first_step_with_the_reason()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Aws, CloudAccountStatus.Failed));

        Assert.False(await wizard.NextAsync(default));

        Assert.Equal(WorkspaceWizard.AccountStep, wizard.Step);
        Assert.NotNull(wizard.Errors.For("cloudAccountId"));
    }

    [Fact]
    public async Task A_step_shows_only_its_own_errors_even_though_later_fields_are_still_empty()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Sandbox));

        Assert.True(await wizard.NextAsync(default));
        Assert.True(await wizard.NextAsync(default));

        // The name is still empty, but the account and region steps did not complain about it.
        Assert.Equal(WorkspaceWizard.NameStep, wizard.Step);
        Assert.True(wizard.Errors.IsEmpty);
    }

    [Fact]
    public async Task A_bad_name_keeps_the_name_step_open_with_the_error_on_that_field()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Sandbox));
        await wizard.NextAsync(default);
        await wizard.NextAsync(default);
        wizard.Model.Name = "Lake!";

        Assert.False(await wizard.NextAsync(default));

        Assert.Equal(WorkspaceWizard.NameStep, wizard.Step);
        Assert.Contains("Lowercase letters", wizard.Errors.For("name"));
        Assert.Null(wizard.Errors.For("nodePools"));
    }

    [Fact]
    public async Task A_name_already_used_in_the_tenant_is_refused_at_the_field()
    {
        var answers = new Answers();
        answers.TakenNames.Add("lake");
        var wizard = Wizard(answers, Account(CloudProvider.Sandbox));
        await wizard.NextAsync(default);
        await wizard.NextAsync(default);
        wizard.Model.Name = "lake";

        Assert.False(await wizard.NextAsync(default));

        Assert.Contains("already has a workspace named 'lake'", wizard.Errors.For("name"));
    }

    [Fact]
    public async Task The_name_step_suggests_the_first_network_clear_of_the_accounts_others()
    {
        var answers = new Answers();
        answers.Networks.AddRange(["10.40.0.0/16", "10.41.0.0/20"]);
        var wizard = Wizard(answers, Account(CloudProvider.Sandbox));

        await wizard.NextAsync(default);
        await wizard.NextAsync(default);

        Assert.Equal("10.42.0.0/16", wizard.Model.NetworkCidr);
    }

    [Fact]
    public void No_free_network_is_an_empty_suggestion_not_a_wrong_one()
    {
        var all = Enumerable.Range(0, 256).Select(second => $"10.{second}.0.0/16").ToList();

        Assert.Equal("", WorkspaceWizard.FreeNetwork(all));
        Assert.Equal("10.40.0.0/16", WorkspaceWizard.FreeNetwork([]));
    }

    [Fact]
    public async Task A_node_pool_error_belongs_to_the_nodes_step_and_names_the_pool()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Sandbox));
        await wizard.NextAsync(default);
        await wizard.NextAsync(default);
        wizard.Model.Name = "lake";
        Assert.True(await wizard.NextAsync(default));
        wizard.Model.NodePools[0].MinSize = 9;
        wizard.Model.NodePools[0].MaxSize = 2;

        Assert.False(await wizard.NextAsync(default));

        Assert.Equal(WorkspaceWizard.NodesStep, wizard.Step);
        Assert.Contains(wizard.Errors.ToDictionary().Keys, field => field.StartsWith("nodePools[0]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Only_steps_already_reached_can_be_opened_again_and_going_back_clears_the_errors()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Sandbox));
        await wizard.NextAsync(default);
        await wizard.NextAsync(default);
        await wizard.NextAsync(default); // the empty name is refused

        Assert.False(wizard.Visit(WorkspaceWizard.ReviewStep));
        Assert.False(wizard.Errors.IsEmpty);
        Assert.True(wizard.Back());

        Assert.Equal(WorkspaceWizard.RegionStep, wizard.Step);
        Assert.True(wizard.Errors.IsEmpty);
        Assert.True(wizard.Visit(WorkspaceWizard.AccountStep));
    }

    [Fact]
    public async Task The_review_shows_the_run_inputs_with_the_id_to_be_assigned_and_where_the_state_lives()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Sandbox));
        await wizard.NextAsync(default);
        await wizard.NextAsync(default);
        wizard.Model.Name = " lake ";
        for (var step = WorkspaceWizard.NameStep; step < WorkspaceWizard.ReviewStep; step++) Assert.True(await wizard.NextAsync(default));

        var review = wizard.ReviewJson();

        Assert.True(wizard.IsLastStep);
        Assert.Contains("\"workspace_name\": \"lake\"", review);
        Assert.Contains("\"workspace_id\": \"(assigned when created)\"", review);
        Assert.Equal("State: bucket in sandbox-local-1.", wizard.StateBackendNote);
        Assert.False(await wizard.NextAsync(default));
    }

    [Fact]
    public void Node_pools_can_be_added_up_to_the_limit_and_the_last_one_cannot_be_removed()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Aws));

        wizard.RemovePool(0);
        while (wizard.CanAddPool) wizard.AddPool();

        Assert.Equal(WorkspaceCatalog.MaxNodePools, wizard.Model.NodePools.Count);
        Assert.Equal("pool-2", wizard.Model.NodePools[1].Name);
        wizard.AddPool();
        Assert.Equal(WorkspaceCatalog.MaxNodePools, wizard.Model.NodePools.Count);
    }

    [Fact]
    public void Karpenter_means_no_node_pools_in_the_request()
    {
        var wizard = Wizard(new Answers(), Account(CloudProvider.Aws));
        wizard.Model.UseKarpenter = true;

        Assert.Empty(wizard.Input().NodePools);
    }

    [Fact]
    public void Errors_are_sorted_to_the_step_that_owns_the_field()
    {
        var all = new FieldErrors()
            .Add("cloudAccountId", "a").Add("region", "b").Add("name", "c").Add("networkCidr", "d")
            .Add("nodePools[2].size", "e").Add("useKarpenter", "f").Add("database", "g");

        Assert.Equal(["cloudAccountId"], WorkspaceWizard.ErrorsOfStep(WorkspaceWizard.AccountStep, all).ToDictionary().Keys);
        Assert.Equal(["name", "networkCidr"], WorkspaceWizard.ErrorsOfStep(WorkspaceWizard.NameStep, all).ToDictionary().Keys.Order());
        Assert.Equal(["nodePools[2].size", "useKarpenter"], WorkspaceWizard.ErrorsOfStep(WorkspaceWizard.NodesStep, all).ToDictionary().Keys.Order());
        Assert.True(WorkspaceWizard.ErrorsOfStep(WorkspaceWizard.ReviewStep, all).IsEmpty);
    }
}
