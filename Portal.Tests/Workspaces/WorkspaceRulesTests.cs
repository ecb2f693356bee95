using Cogrion.Portal.Features.Workspaces;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>The rules the wizard and the API share, on a real database (the job engine is off: nothing runs here).</summary>
public sealed class WorkspaceRulesTests : IAsyncLifetime
{
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() => world = await WorkspaceWorld.StartAsync(runWorkers: false);

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Theory]
    [InlineData("10.40.0.0/16")]
    [InlineData("172.20.0.0/18")]
    [InlineData("192.168.16.0/20")]
    public void A_private_range_from_16_to_20_is_accepted(string cidr) => Assert.Null(WorkspaceRules.CheckCidr(cidr));

    [Theory]
    [InlineData("8.8.0.0/16", "private range")]
    [InlineData("172.32.0.0/16", "private range")]
    [InlineData("10.0.0.0/8", "/16 to /20")]
    [InlineData("10.40.0.0/24", "/16 to /20")]
    [InlineData("10.40.1.0/16", "host bits")]
    [InlineData("10.40.0.0", "CIDR notation")]
    [InlineData("fd00::/16", "IPv4")]
    public void A_public_badly_sized_or_malformed_range_is_refused(string cidr, string reason) =>
        Assert.Contains(reason, WorkspaceRules.CheckCidr(cidr));

    [Fact]
    public async Task A_range_overlapping_another_workspace_in_the_same_account_and_region_is_refused()
    {
        var tenant = await world.NewTenantAsync("overlap");
        var account = await world.NewAccountAsync(tenant);
        Assert.True((await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "first", "10.40.0.0/16"), WorkspaceWorld.Operator,
            default)).Succeeded);

        var overlapping = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "second", "10.40.16.0/20"), WorkspaceWorld.Operator,
            default);
        Assert.Contains("Overlaps 10.40.0.0/16", overlapping.Errors.For("networkCidr"));

        var otherRegion = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "third", "10.40.0.0/16", region: "sandbox-local-2"),
            WorkspaceWorld.Operator, default);
        Assert.True(otherRegion.Succeeded);
    }

    [Fact]
    public async Task A_name_is_unique_in_the_tenant_and_must_be_a_DNS_label()
    {
        var tenant = await world.NewTenantAsync("names");
        var account = await world.NewAccountAsync(tenant);
        Assert.True((await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "analytics"), WorkspaceWorld.Operator, default))
            .Succeeded);

        var duplicate = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "analytics", "10.41.0.0/16"), WorkspaceWorld.Operator,
            default);
        Assert.Contains("already has a workspace named", duplicate.Errors.For("name"));
        var badLabel = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "Bad_Name", "10.42.0.0/16"), WorkspaceWorld.Operator,
            default);
        Assert.NotNull(badLabel.Errors.For("name"));

        // Another tenant may use the same name.
        var other = await world.NewTenantAsync("names-other");
        Assert.True((await world.Commands.CreateAsync(other, WorkspaceWorld.Valid(await world.NewAccountAsync(other), "analytics"),
            WorkspaceWorld.Operator, default)).Succeeded);
    }

    [Fact]
    public async Task An_unverified_account_or_another_tenants_account_is_refused()
    {
        var tenant = await world.NewTenantAsync("accounts");
        var pending = await world.NewAccountAsync(tenant, status: "pending");
        var result = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(pending, "web"), WorkspaceWorld.Operator, default);
        Assert.Contains("not verified", result.Errors.For("cloudAccountId"));

        var stranger = await world.NewTenantAsync("accounts-stranger");
        var foreign = await world.NewAccountAsync(stranger);
        var refused = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(foreign, "web"), WorkspaceWorld.Operator, default);
        Assert.Contains("does not exist in this tenant", refused.Errors.For("cloudAccountId"));
    }

    [Fact]
    public async Task Provider_specific_choices_are_checked_against_the_accounts_provider()
    {
        var tenant = await world.NewTenantAsync("providers");
        var sandbox = await world.NewAccountAsync(tenant);
        var input = WorkspaceWorld.Valid(sandbox, "web") with
        {
            Region = "eu-central-1",
            UseKarpenter = true,
            Database = new DatabaseInput("mysql", "small"),
            KubernetesVersion = "1.20",
        };
        var result = await world.Commands.CreateAsync(tenant, input, WorkspaceWorld.Operator, default);
        Assert.NotNull(result.Errors.For("region"));
        Assert.Contains("AWS only", result.Errors.For("useKarpenter"));
        Assert.NotNull(result.Errors.For("database"));
        Assert.NotNull(result.Errors.For("kubernetesVersion"));

        var alicloud = await world.NewAccountAsync(tenant, provider: "alicloud");
        var pools = WorkspaceWorld.Valid(alicloud, "ali",
            region: "cn-hangzhou") with
        { NodePools = [new NodePoolInput("default", "m6i.large", 3, 2)] };
        var refused = await world.Commands.CreateAsync(tenant, pools, WorkspaceWorld.Operator, default);
        Assert.NotNull(refused.Errors.For("nodePools[0].instanceType"));
        Assert.NotNull(refused.Errors.For("nodePools[0].size"));
    }

    [Fact]
    public async Task A_refused_request_creates_nothing_no_workspace_no_run_no_job()
    {
        var tenant = await world.NewTenantAsync("nothing");
        var account = await world.NewAccountAsync(tenant);
        var result = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "web", "8.8.0.0/16"), WorkspaceWorld.Operator, default);

        Assert.False(result.Succeeded);
        Assert.Equal(0, await world.CountAsync("select count(*) from workspaces where tenant_id = @tenant", new { tenant }));
        Assert.Equal(0, await world.CountAsync("select count(*) from workspace_runs where tenant_id = @tenant", new { tenant }));
        Assert.Equal(0, await world.CountAsync("select count(*) from jobs where tenant_id = @tenant", new { tenant }));
    }

    [Fact]
    public async Task A_valid_request_creates_the_workspace_with_its_first_run_and_job_in_one_transaction()
    {
        var tenant = await world.NewTenantAsync("created");
        var account = await world.NewAccountAsync(tenant);
        var result = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "web"), WorkspaceWorld.Operator, default);

        Assert.True(result.Succeeded);
        Assert.Equal(WorkspaceStatus.Pending, result.Value!.Status);
        Assert.Equal(1,
            await world.CountAsync("select count(*) from workspace_runs where tenant_id = @tenant and status = 'queued'", new { tenant }));
        Assert.Equal(1,
            await world.CountAsync("select count(*) from jobs where tenant_id = @tenant and kind = 'provisioning.plan' and concurrency_key = @key",
            new { tenant, key = $"workspace:{result.Value.Id}" }));
        Assert.Equal(1,
            await world.CountAsync("select count(*) from audit_events where tenant_id = @tenant and action = 'workspace.created'", new { tenant }));
    }
}
