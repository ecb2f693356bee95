using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Tests.Infrastructure;
using static Cogrion.Portal.Tests.Infrastructure.KubernetesObjects;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// Queued actions end to end, with the real agent process in a sandbox workspace's simulated cluster: with the agent
/// stopped, an upgrade and an install wait as queued commands with their expiry; an operator cancels both; the
/// app's desired state follows (the upgrade's revision put back, the install gone), audited. Started again, the agent
/// never receives the cancelled commands: the cluster never gets the cancelled revision or the cancelled app, while
/// a change queued afterwards runs.
/// </summary>
public sealed class QueuedAppActionsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task With_the_agent_stopped_an_install_and_an_upgrade_wait_with_their_expiry_are_cancelled_and_never_run()
    {
        await using var world = await SandboxInstallWorld.StartAsync(SandboxInstallWorld.RepositoryModules);
        var workspace = await world.ReadyWorkspaceAsync("lake");
        var apps = world.Portal.Get<WorkspaceApps>();
        Assert.True((await apps.InstallAsync(world.TenantId, workspace, "mlflow", "1.6.2", null, null, SandboxInstallWorld.Admin,
            CancellationToken.None)).Succeeded);
        await world.WaitForAppAsync(workspace, "mlflow", v => v.Status.State == AppState.Ready, "MLflow to be Ready");

        await ScaleAgentAsync(world, workspace.Id, 0);

        var upgraded = await apps.UpgradeAsync(world.TenantId, workspace, "mlflow", "1.7.3", null, null, SandboxInstallWorld.Admin,
            CancellationToken.None);
        Assert.True(upgraded.Succeeded);
        Assert.Equal(2, upgraded.Value!.Revision);
        var installed = await apps.InstallAsync(world.TenantId, workspace, "airflow", null, null, null, SandboxInstallWorld.Admin,
            CancellationToken.None);
        Assert.True(installed.Succeeded);

        // Both wait, with their expiry (Agents:DefaultCommandLifetime, a day).
        var mlflow = (await apps.FindAsync(world.TenantId, workspace.Id, "mlflow", CancellationToken.None))!;
        var upgrade = Assert.Single(await apps.QueuedAsync(world.TenantId, mlflow.App.Id, CancellationToken.None));
        Assert.Equal(QueuedAppAction.Upgrade, upgrade.Action);
        Assert.Equal(QueuedCommandState.Waiting, upgrade.State);
        Assert.InRange(upgrade.ExpiresAt - upgrade.CreatedAt, TimeSpan.FromHours(23), TimeSpan.FromHours(25));
        Assert.Contains("in 23 h", QueuedText.Expiry(upgrade, DateTimeOffset.UtcNow));
        var install = await apps.QueuedAsync(world.TenantId, installed.Value!.Id, CancellationToken.None);
        Assert.Equal(2, install.Count);
        Assert.All(install, c => Assert.Equal(QueuedAppAction.Install, c.Action));

        // Cancelled: the upgrade puts revision 1 back; the install leaves Airflow not installed.
        var cancelledUpgrade = await apps.CancelQueuedAsync(world.TenantId, workspace, "mlflow", upgrade.Id, SandboxInstallWorld.Admin,
            CancellationToken.None);
        Assert.Equal(CancelOutcome.Cancelled, cancelledUpgrade.Outcome);
        mlflow = (await apps.FindAsync(world.TenantId, workspace.Id, "mlflow", CancellationToken.None))!;
        Assert.Equal(1, mlflow.App.Revision);
        Assert.Equal("1.6.2", mlflow.App.ChartVersion);
        Assert.DoesNotContain(await apps.RevisionsAsync(world.TenantId, mlflow.App.Id, CancellationToken.None), r => r.Revision == 2);
        var cancelledInstall = await apps.CancelQueuedAsync(world.TenantId, workspace, "airflow", install[1].Id, SandboxInstallWorld.Admin,
            CancellationToken.None);
        Assert.Equal(CancelOutcome.Cancelled, cancelledInstall.Outcome);
        Assert.Equal(2, cancelledInstall.Cancelled.Count);
        Assert.Null(await apps.FindAsync(world.TenantId, workspace.Id, "airflow", CancellationToken.None));
        // Cancelling again finds nothing left to withdraw.
        Assert.Equal(CancelOutcome.NotFound, (await apps.CancelQueuedAsync(world.TenantId, workspace, "airflow", install[0].Id,
            SandboxInstallWorld.Admin, CancellationToken.None)).Outcome);

        // The agent comes back and runs what is queued after the cancelled ones: a new upgrade, revision 3.
        var since = DateTimeOffset.UtcNow;
        await ScaleAgentAsync(world, workspace.Id, 1);
        Assert.True((await apps.UpgradeAsync(world.TenantId, workspace, "mlflow", "1.7.3", null, null, SandboxInstallWorld.Admin,
            CancellationToken.None)).Succeeded);
        var ready = await world.WaitForAppAsync(workspace, "mlflow", v => v.Status.State == AppState.Ready && v.App.Report?.DesiredRevision == "3",
            "the upgrade queued after the cancelled one to be Ready");
        Assert.Equal("1.7.3", ready.App.Report!.LastAppliedRevision);
        Assert.True(ready.App.ReportedAt > since);

        // The cancelled ones never reached it: never delivered, and nothing of them in the cluster.
        Assert.Equal(3, await world.CountAsync("select count(*) from agent_commands where status = 'cancelled' and delivered_at is null"));
        var cluster = world.ClusterObjects(workspace.Id);
        Assert.DoesNotContain(cluster, o => Kind(o) == "Namespace" && Name(o) == "airflow");
        Assert.Equal([3, 1], (await apps.RevisionsAsync(world.TenantId, ready.App.Id, CancellationToken.None)).Select(r => r.Revision));
        Assert.Equal(1, await world.CountAsync("select count(*) from audit_events where action = 'app.upgrade_cancelled'"));
        Assert.Equal(1, await world.CountAsync("select count(*) from audit_events where action = 'app.install_cancelled'"));
    }

    /// <summary>Stops or starts the agent as an operator would: its Deployment scaled, over the cluster's admin kubeconfig.</summary>
    private static async Task ScaleAgentAsync(SandboxInstallWorld world, Guid workspaceId, int replicas)
    {
        var kubeconfig = Path.Combine(world.StateRoot, workspaceId.ToString("n"), "cluster", "kubeconfig");
        using var admin = new KubernetesClient(k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig), fieldManager: "test-admin");
        await admin.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = AgentInstall.Deployment, ["namespace"] = AgentInstall.Namespace },
            ["spec"] = new JsonObject { ["replicas"] = replicas },
        }, CancellationToken.None);
        if (replicas == 0)
        {
            await Eventually.ValueAsync(() => Task.FromResult(world.ClusterObjects(workspaceId)
                    .Count(o => Kind(o) == "Pod" && o["metadata"]?["namespace"]?.GetValue<string>() == AgentInstall.Namespace)),
                count => count == 0, "the agent's pods to stop", Deadline);
            return;
        }
        var started = DateTimeOffset.UtcNow;
        await Eventually.ValueAsync(async () => (await world.Portal.Get<AgentRegistry>().ListForWorkspaceAsync(world.TenantId, workspaceId,
                CancellationToken.None)).Single(a => a.Status == "active"),
            a => a.LastSeenAt > started, "the agent to call in again", Deadline);
    }
}
