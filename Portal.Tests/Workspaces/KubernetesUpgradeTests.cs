using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// Kubernetes versions from the providers' calendars, on a Portal whose calendar clock is pinned to
/// 2026-10-15 (the rest of the Portal keeps the real clock): EKS, and the sandbox that follows it,
/// offer 1.35 and 1.34 then, and 1.34's standard support ends on 2026-12-02, within the 90 days of warning.
/// Real PostgreSQL, job engine, runner and tofu-sandbox.
/// </summary>
public sealed class KubernetesUpgradeTests : IAsyncLifetime
{
    private static readonly DateOnly Day = new(2026, 10, 15);
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() => world = await WorkspaceWorld.StartAsync(runWorkers: true,
        services: services => { TestAuthentication.Register(services); KubernetesTestVersions.On(Day)(services); });

    public async Task DisposeAsync() => await world.DisposeAsync();

    private async Task<WorkspaceRun> LatestRunAsync(Guid tenant, Guid workspaceId)
        => (await world.Store.RunsAsync(tenant, workspaceId, 10, default))[0];

    [Fact]
    public async Task The_API_refuses_a_version_past_standard_support_with_a_problem_naming_the_supported_ones()
    {
        var tenant = await world.NewTenantAsync("versions");
        var account = await world.NewAccountAsync(tenant);
        var person = await world.OperatorOfAsync(tenant, "vera");
        using var client = world.Portal.CreateClient();
        async Task<HttpResponseMessage> CreateAsync(string version) => await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants/versions/workspaces")
            {
                Content = JsonContent.Create(new
                {
                    cloudAccountId = account,
                    region = "sandbox-local-1",
                    name = "lake",
                    networkCidr = "10.40.0.0/16",
                    kubernetesVersion = version,
                    nodePools = new[] { new { name = "default", instanceType = "m6i.large", minSize = 1, maxSize = 3 } },
                }),
            }.As(person));

        foreach (var (version, reason) in new[]
        {
            ("1.33", "Kubernetes 1.33 left standard support on the sandbox (which follows Amazon EKS) on 2026-07-29. Choose one of: 1.35, 1.34."),
            ("1.99", "Kubernetes 1.99 is not offered on the sandbox (which follows Amazon EKS). Choose one of: 1.35, 1.34."),
        })
        {
            var refused = await CreateAsync(version);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
            var errors = problem.RootElement.GetProperty("errors").GetProperty("kubernetesVersion");
            Assert.Equal(reason, errors[0].GetString());
        }
        Assert.Equal(0, await world.CountAsync("select count(*) from workspaces where tenant_id = @tenant", new { tenant }));

        var accepted = await CreateAsync("1.34");
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
    }

    [Fact]
    public async Task Upgrade_Kubernetes_plans_the_next_minor_version_in_place_and_the_workspace_takes_it_once_approved_and_applied()
    {
        var tenant = await world.NewTenantAsync("upgrades");
        var account = await world.NewAccountAsync(tenant);
        var created = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, "lake") with { KubernetesVersion = "1.34" },
            WorkspaceWorld.Operator, default);
        Assert.True(created.Succeeded);
        var workspace = created.Value!;
        await world.WorkspaceWithStatusAsync(tenant, "lake", WorkspaceStatus.AwaitingApproval);
        var first = await LatestRunAsync(tenant, workspace.Id);
        Assert.True((await world.Commands.ApproveAsync(tenant, workspace.Id, first.Id, WorkspaceWorld.Operator, default)).Succeeded);
        await world.WorkspaceWithStatusAsync(tenant, "lake", WorkspaceStatus.Ready);

        // A person of the tenant asks for the upgrade through the API; it is an upgrade run to 1.35 only.
        var person = await world.OperatorOfAsync(tenant, "uma");
        using var client = world.Portal.CreateClient();
        var accepted = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants/upgrades/workspaces/lake/kubernetes/upgrade")
            .As(person));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        using (var body = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()))
        {
            Assert.Equal("upgrade", body.RootElement.GetProperty("kind").GetString());
            Assert.Equal("1.35", body.RootElement.GetProperty("kubernetesVersion").GetString());
        }

        // The usual flow: a plan waits for approval. It changes the cluster, its add-ons and node groups in place; nothing is added, replaced or
        // destroyed.
        await world.WorkspaceWithStatusAsync(tenant, "lake", WorkspaceStatus.AwaitingApproval);
        var upgrade = await LatestRunAsync(tenant, workspace.Id);
        Assert.Equal(RunKind.Upgrade, upgrade.Kind);
        Assert.Equal("upgrade to Kubernetes 1.35", upgrade.KindText);
        var plan = upgrade.Plan!;
        Assert.Contains("module.stack.module.eks.aws_eks_cluster.this[0]", plan.ToChange);
        Assert.Contains(plan.ToChange, a => a.Contains("aws_eks_node_group", StringComparison.Ordinal));
        Assert.Empty(plan.ToAdd);
        Assert.Empty(plan.ToReplace);
        Assert.Empty(plan.ToDestroy);
        // Until it is applied, the workspace keeps the version its cluster has.
        Assert.Equal("1.34", (await world.Store.FindByNameAsync(tenant, "lake", default))!.KubernetesVersion);
        Assert.Contains("Upgrading Kubernetes in place from 1.34 to 1.35", await world.RunLogAsync(upgrade));

        Assert.True((await world.Commands.ApproveAsync(tenant, workspace.Id, upgrade.Id, WorkspaceWorld.Operator, default)).Succeeded);
        var upgraded = await world.WorkspaceWithStatusAsync(tenant, "lake", WorkspaceStatus.Ready);
        Assert.Equal("1.35", upgraded.KubernetesVersion);
        Assert.Equal("1.35", upgraded.Outputs!["kubernetes_version"]);
        Assert.Equal(RunStatus.Succeeded, (await LatestRunAsync(tenant, workspace.Id)).Status);

        // Audited like other run requests: who asked, from which version to which, in the same transaction as the run.
        Assert.Equal(1, await world.CountAsync("""
            select count(*) from audit_events
            where action = 'workspace.kubernetes_upgrade_requested' and target_id = @id and actor_id = @user
              and details->>'from' = '1.34' and details->>'to' = '1.35' and details->>'support' = 'EndingSoon'
            """, new { id = workspace.Id.ToString(), user = person.Id.ToString() }));
        Assert.Equal(1, await world.CountAsync(
            "select count(*) from audit_events where action = 'workspace.run_queued' and target_id = @id and details->>'kind' = 'upgrade'",
            new { id = workspace.Id.ToString() }));

        // 1.35 is the newest in the calendar: nothing further to upgrade to, and the API says so.
        var nothing = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants/upgrades/workspaces/lake/kubernetes/upgrade")
            .As(person));
        Assert.Equal(HttpStatusCode.BadRequest, nothing.StatusCode);
        Assert.Contains("has released no Kubernetes version after 1.35 yet", await nothing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Another_tenants_workspace_cannot_be_upgraded_and_looks_like_no_workspace()
    {
        var owner = await world.NewTenantAsync("owner");
        var account = await world.NewAccountAsync(owner);
        var created = await world.Commands.CreateAsync(owner,
            WorkspaceWorld.Valid(account, "lake", approval: ApprovalMode.Automatic) with { KubernetesVersion = "1.34" },
            WorkspaceWorld.Operator, default);
        await world.WorkspaceWithStatusAsync(owner, "lake", WorkspaceStatus.Ready);
        var stranger = await world.NewTenantAsync("stranger");
        var mallory = await world.OperatorOfAsync(stranger, "mallory");
        using var client = world.Portal.CreateClient();

        // Through the stranger's own tenant, the owner's workspace name finds nothing; through the owner's, the tenant itself is hidden.
        foreach (var path in new[] { "/api/v1/tenants/stranger/workspaces/lake/kubernetes/upgrade",
            "/api/v1/tenants/owner/workspaces/lake/kubernetes/upgrade" })
        {
            var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path).As(mallory));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        // And by id, as a page would call the command with its own tenant.
        Assert.True((await world.Commands.UpgradeKubernetesAsync(stranger, created.Value!.Id, WorkspaceWorld.Operator, default)).IsNotFound);

        Assert.Equal(0,
            await world.CountAsync("select count(*) from workspace_runs where workspace_id = @id and kind = 'upgrade'",
            new { id = created.Value!.Id }));
        Assert.Equal(0, await world.CountAsync("select count(*) from audit_events where action = 'workspace.kubernetes_upgrade_requested'"));
    }
}
