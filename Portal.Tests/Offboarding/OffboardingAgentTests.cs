using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Features.Offboarding;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Workspaces;
using Dapper;
using Npgsql;
using static Cogrion.Portal.Tests.Infrastructure.KubernetesObjects;

namespace Cogrion.Portal.Tests.Offboarding;

/// <summary>
/// Offboarding with real agents in simulated clusters (the world of the catalog's end-to-end tests): a tenant with a child tenant and two
/// sandbox workspaces, each running a catalog app. "keep" stays with its app running and none of the agent's objects; "gone" has its app
/// removed through the agent, then an ordinary destroy run, after which its simulated cloud state holds 0 resources and its cluster is gone.
/// Every credential is refused afterwards. The steps that wait are woken by what they wait for, not by their interval.
/// </summary>
public sealed class OffboardingAgentTests
{
    [Fact]
    public async Task Keep_workspace_keeps_its_apps_without_the_agent_and_destroy_workspace_leaves_nothing()
    {
        // The waiting steps look again only after 5 minutes (the longest allowed), longer than OffboardingWorld.Deadline: the offboarding
        // finishes because the apps' removal, the destroy run and the agents' answers wake them (StepWakeups).
        await using var world = await SandboxInstallWorld.StartAsync(SandboxInstallWorld.RepositoryModules,
            moreSettings: new Dictionary<string, string?> { ["Offboarding:WaitInterval"] = "00:05:00" });
        var seeded = await OffboardingWorld.SeedAsync(world.ConnectionString, world.Portal.Services, root: world.TenantId, slug: "install");
        var keepId = await world.CreateWorkspaceAsync("keep");
        var goneId = await world.CreateWorkspaceAsync("gone", "10.41.0.0/16");
        var keep = await world.WaitForStatusAsync(keepId, WorkspaceStatus.Ready);
        var gone = await world.WaitForStatusAsync(goneId, WorkspaceStatus.Ready);
        var apps = world.Portal.Get<WorkspaceApps>();
        foreach (var (workspace, app) in new[] { (keep, "superset"), (gone, "mlflow") })
        {
            var installed = await apps.InstallAsync(world.TenantId, workspace, app, null, null, null, SandboxInstallWorld.Admin,
                CancellationToken.None);
            Assert.True(installed.Succeeded, string.Join("; ", installed.Errors.ToDictionary().SelectMany(e => e.Value)));
            await Eventually.ValueAsync(() => apps.FindAsync(world.TenantId, workspace.Id, app, CancellationToken.None),
                v => v?.Status.State == AppState.Ready, $"{app} to be Ready", OffboardingWorld.Deadline);
        }
        // A bootstrap token nobody used yet: it must not register anything afterwards.
        var unused = await world.Portal.Get<AgentEnrollment>().CreateBootstrapTokenAsync(world.TenantId, keepId, SandboxInstallWorld.Admin,
            CancellationToken.None);

        var context = await OffboardingWorld.ContextAsync(world.Portal.Services, world.TenantId, seeded.Admin, TenantRole.Admin);
        var started = await world.Portal.Get<OffboardingCommands>().StartAsync(context, new OffboardingRequest("install",
            new Dictionary<Guid, WorkspaceFate> { [keepId] = WorkspaceFate.Keep, [goneId] = WorkspaceFate.Destroy }, PurgeTiming.AfterRetention),
            Actor.User(seeded.Admin.Id, "install-admin"), CancellationToken.None);
        Assert.True(started.Succeeded, string.Join("; ", started.Errors.ToDictionary().SelectMany(e => e.Value)));
        var done = await OffboardingWorld.WaitForAsync(world.Portal.Services, started.Value, o => o.Status == OffboardingStatus.AwaitingPurge,
            "the offboarding to issue its certificate");

        // The destroyed workspace: its app went through the catalog's removal, then a destroy run; the simulated cloud holds nothing of it.
        Assert.Equal(1, await world.CountAsync(
            $"select count(*) from audit_events where action = 'app.remove_requested' and target_id = (select id::text from workspace_apps where " +
                $"workspace_id = '{goneId}')"));
        Assert.Equal(1,
            await world.CountAsync($"select count(*) from workspace_runs where workspace_id = '{goneId}' and kind = 'destroy' and status = " +
            $"'succeeded'"));
        var state = Path.Combine(world.StateRoot, goneId.ToString("n"), "terraform.tfstate");
        Assert.Empty(JsonNode.Parse(File.ReadAllText(state))!["resources"]!.AsArray());
        Assert.False(File.Exists(Path.Combine(world.StateRoot, goneId.ToString("n"), "cluster", "objects.json")), "the destroyed cluster is gone");

        // The kept workspace: its app runs on, in a namespace that is now the tenant's; nothing of the agent is left (its ClusterRole and
        // binding went with its namespace, as their owner).
        var cluster = world.ClusterObjects(keepId);
        Assert.Contains(cluster, o => Kind(o) == "HelmRelease" && Namespace(o) == "superset");
        Assert.Contains(cluster, o => Kind(o) == "Namespace" && Name(o) == "superset");
        Assert.Contains(cluster, o => Kind(o) == "Deployment" && Namespace(o) == "superset");
        string AgentObjectsLeft() => string.Join(", ", world.ClusterObjects(keepId).Where(o =>
            o["metadata"]?["labels"]?[AgentLabels.ManagedBy]?.GetValue<string>() == AgentLabels.ManagedByValue
            || Namespace(o) == AgentInstall.Namespace
            || (Kind(o) == "Namespace" && Name(o) == AgentInstall.Namespace)
            || (Kind(o) is "RoleBinding" && Name(o) == AgentInstall.WorkloadRoleBinding)
            || (Kind(o) is "ClusterRoleBinding" or "ClusterRole" && Name(o) is { } name
                && (name.StartsWith("cogrion-agent", StringComparison.Ordinal) || name == AgentInstall.SupportReader)))
                .Select(o => $"{Kind(o)} {Namespace(o)}/{Name(o)}"));
        // The agent answers its uninstall before it removes itself (deleting its namespace stops its own pod, so no answer could follow),
        // which lets the offboarding finish a moment before the last of its objects is gone.
        await Eventually.ValueAsync(() => Task.FromResult(AgentObjectsLeft()), left => left.Length == 0,
            "the agent to remove every object of its own", TimeSpan.FromMinutes(1));
        Assert.Contains(done.Progress[OffboardingStep.UninstallAgents].Done, line
            => line.Contains("Handed 1 app namespace(s) over", StringComparison.Ordinal));

        // Every credential: the agents are uninstalled or revoked with no token, the unused bootstrap token is gone and refused.
        Assert.Equal(0, await world.CountAsync(
            $"select count(*) from agents where tenant_id = '{world.TenantId}' and (status = 'active' or access_token_hash is not null)"));
        using var http = new HttpClient { BaseAddress = new Uri(world.Portal.BaseUrl) };
        using var key = ProtocolKeys.Create();
        using var registration = await http.PostAsJsonAsync("/api/agent/v1/registrations",
            new RegistrationRequest(unused.Token, ProtocolKeys.ExportPublicKey(key), "0.1.0", "late"), ProtocolJson.Default.RegistrationRequest);
        Assert.Equal(HttpStatusCode.Unauthorized, registration.StatusCode);

        // The final verification: the role is still assumable until the tenant deletes it (simulated in the sandbox), then it is not.
        var roles = world.Portal.Get<RoleChecks>();
        Assert.True((await roles.RequestAsync(done, world.AccountId, Actor.System("test"), CancellationToken.None)).Succeeded);
        await OffboardingWorld.WaitForAsync(world.Portal.Services, done.Id,
            o => o.RoleChecks.TryGetValue(world.AccountId, out var c) && c.Assumable, "the role to be found still assumable");
        Assert.True((await roles.DeleteSandboxRoleAsync(done, world.AccountId, Actor.System("test"), CancellationToken.None)).Succeeded);
        Assert.True((await roles.RequestAsync(done, world.AccountId, Actor.System("test"), CancellationToken.None)).Succeeded);
        var ended = await OffboardingWorld.WaitForAsync(world.Portal.Services, done.Id,
            o => o.RoleChecks.TryGetValue(world.AccountId, out var c) && !c.Assumable, "the role to be found gone");
        Assert.Contains("can no longer assume the role", ended.RoleChecks[world.AccountId].Message);

        // The bundle checks itself; then the purge.
        await using (var connection = new NpgsqlConnection(world.ConnectionString))
        {
            var bundle = await connection.ExecuteScalarAsync<byte[]>("select bundle from offboardings where id = @id", new { id = done.Id });
            var unpacked = OffboardingWorld.Unpack(bundle!);
            var verified = await OffboardingWorld.VerifyBundleAsync(unpacked, unpacked);
            Assert.True(verified.ExitCode == 0, verified.StandardOutput);
            Assert.Contains("superset", File.ReadAllText(Path.Combine(unpacked, "apps.json")));
        }
        Assert.True((await world.Portal.Get<OffboardingCommands>().PurgeNowAsync(done.Id, Actor.System("test"), CancellationToken.None)).Succeeded);
        await OffboardingWorld.WaitForAsync(world.Portal.Services, done.Id, o => o.Status == OffboardingStatus.Purged, "the purge");
        var left = await OffboardingWorld.RowsOfAsync(world.ConnectionString, [world.TenantId, seeded.Child]);
        Assert.All(left.Where(t => t.Key is not ("audit_event_tombstones" or "offboardings" or "jobs")),
            t => Assert.True(t.Value == 0, $"{t.Value} row(s) of the purged tenants left in {t.Key}"));
    }
}
