using System.Text.Json.Nodes;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Tests.Infrastructure;
using static Cogrion.Portal.Tests.Infrastructure.KubernetesObjects;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// Catalog apps end to end: the Portal queues signed commands, the real agent process applies the
/// namespace, the HelmRepository and the HelmRelease to the workspace's simulated cluster, whose
/// simulated Flux helm-controller installs the chart; the agent reports the release and its workloads
/// back on its heartbeat, and the Portal tells the state with its cause.
/// </summary>
public sealed class CatalogEndToEndTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Airflow_installs_upgrades_fails_an_upgrade_is_rolled_back_keeping_the_failure_and_is_removed()
    {
        await using var world = await SandboxInstallWorld.StartAsync(SandboxInstallWorld.RepositoryModules);
        var workspace = await world.ReadyWorkspaceAsync("lake");
        var apps = world.Portal.Get<WorkspaceApps>();

        var installed = await apps.InstallAsync(world.TenantId, workspace, "airflow", "1.15.0", null, null, SandboxInstallWorld.Admin,
            CancellationToken.None);
        Assert.True(installed.Succeeded, Describe(installed.Errors));
        var ready = await world.WaitForAppAsync(workspace, "airflow", v => v.Status.State == AppState.Ready, "Airflow to be Ready");
        Assert.Equal("1.15.0", ready.App.Report!.LastAppliedRevision);
        Assert.Contains(ready.App.Report.Workloads, w => w is { Name: "airflow-webserver", Ready: 1 });
        var cluster = world.ClusterObjects(workspace.Id);
        var ns = Assert.Single(cluster, o => Kind(o) == "Namespace" && Name(o) == "airflow");
        Assert.Equal("baseline", ns["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]!.GetValue<string>());
        Assert.Contains(cluster, o => Kind(o) == "ResourceQuota" && Namespace(o) == "airflow");
        Assert.Contains(cluster, o => Kind(o) == "NetworkPolicy" && Namespace(o) == "airflow" && Name(o) == "default-deny");
        var release = Assert.Single(cluster, o => Kind(o) == "HelmRelease");
        Assert.Equal("enabled", release["spec"]!["driftDetection"]!["mode"]!.GetValue<string>());

        var upgraded = await apps.UpgradeAsync(world.TenantId, workspace, "airflow", "1.16.0", null, null, SandboxInstallWorld.Admin,
            CancellationToken.None);
        Assert.True(upgraded.Succeeded, Describe(upgraded.Errors));
        ready = await world.WaitForAppAsync(workspace, "airflow", v => v.Status.State == AppState.Ready && v.App.Report?.DesiredRevision == "2",
            "the upgrade to be Ready");
        Assert.Equal("1.16.0", ready.App.Report!.LastAppliedRevision);

        // The simulated chart rejects this value when it renders: the upgrade fails and Flux rolls back.
        var broken = await apps.UpgradeAsync(world.TenantId, workspace, "airflow", null,
            JsonNode.Parse("""{ "dags": { "gitSync": { "subPath": "dags/sandbox-fail" } } }""")!.AsObject(), null,
            SandboxInstallWorld.Admin, CancellationToken.None);
        Assert.True(broken.Succeeded, Describe(broken.Errors));
        var failed = await world.WaitForAppAsync(workspace, "airflow", v => v.Status.State == AppState.Failed, "the broken upgrade to fail");
        Assert.Contains("Helm upgrade failed", failed.Status.Cause);
        Assert.Contains("rollback", failed.Status.Cause, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("1.16.0", failed.App.Report!.LastAppliedRevision);

        var rolledBack = await apps.RollbackAsync(world.TenantId, workspace, "airflow", 2, SandboxInstallWorld.Admin, CancellationToken.None);
        Assert.True(rolledBack.Succeeded, Describe(rolledBack.Errors));
        ready = await world.WaitForAppAsync(workspace, "airflow", v => v.Status.State == AppState.Ready && v.App.Report?.DesiredRevision == "4",
            "the rollback to be Ready");
        // Green again, and the failure that led here is still told.
        Assert.NotNull(ready.Status.LastFailure);
        Assert.Contains("Helm upgrade failed", ready.Status.LastFailure!.Message);
        Assert.Equal(1, await world.CountAsync("select count(*) from audit_events where action = 'app.failed'"));
        Assert.Equal(4, (await apps.RevisionsAsync(world.TenantId, ready.App.Id, CancellationToken.None)).Count);

        var removing = await apps.RemoveAsync(world.TenantId, workspace, "airflow", "airflow", SandboxInstallWorld.Admin, CancellationToken.None);
        Assert.True(removing.Succeeded, Describe(removing.Errors));
        await Eventually.ValueAsync(() => apps.FindAsync(world.TenantId, workspace.Id, "airflow", CancellationToken.None), v => v is null,
            "Airflow to be removed", Deadline);
        Assert.DoesNotContain(world.ClusterObjects(workspace.Id), o => Namespace(o) == "airflow" || (Kind(o) == "Namespace" && Name(o) == "airflow"));
        Assert.Equal(1, await world.CountAsync("select count(*) from audit_events where action = 'app.removed'"));
        // Its data is kept ("also delete data" was not ticked): the volumes of its StatefulSets' claims stay, Retain, Released.
        var kept = world.ClusterObjects(workspace.Id).Where(o => Kind(o) == "PersistentVolume").ToList();
        Assert.Equal(3, kept.Count);
        Assert.All(kept, v =>
        {
            Assert.Equal("Retain", v["spec"]!["persistentVolumeReclaimPolicy"]!.GetValue<string>());
            Assert.Equal("Released", v["status"]!["phase"]!.GetValue<string>());
            Assert.Equal("airflow", v["metadata"]!["labels"]!["cogrion.io/kept-from"]!.GetValue<string>());
        });
    }

    [Fact]
    public async Task A_failing_install_shows_its_cause_and_a_broken_workload_under_a_green_release_is_degraded()
    {
        await using var world = await SandboxInstallWorld.StartAsync(SandboxInstallWorld.RepositoryModules);
        var workspace = await world.ReadyWorkspaceAsync("lake");
        var apps = world.Portal.Get<WorkspaceApps>();

        var hub = await apps.InstallAsync(world.TenantId, workspace, "jupyterhub", null,
            JsonNode.Parse("""{ "singleuser": { "image": { "tag": "sandbox-fail" } } }""")!.AsObject(), null,
            SandboxInstallWorld.Admin, CancellationToken.None);
        Assert.True(hub.Succeeded, Describe(hub.Errors));
        var mlflow = await apps.InstallAsync(world.TenantId, workspace, "mlflow", null,
            JsonNode.Parse("""{ "artifactRoot": { "s3": { "path": "runs/sandbox-degraded" } } }""")!.AsObject(), null,
            SandboxInstallWorld.Admin, CancellationToken.None);
        Assert.True(mlflow.Succeeded, Describe(mlflow.Errors));

        var superset = await apps.InstallAsync(world.TenantId, workspace, "superset", null, null, null, SandboxInstallWorld.Admin,
            CancellationToken.None);
        Assert.True(superset.Succeeded, Describe(superset.Errors));

        var failed = await world.WaitForAppAsync(workspace, "jupyterhub", v => v.Status.State == AppState.Failed, "JupyterHub's install to fail");
        Assert.Contains("Helm install failed for release jupyterhub/jupyterhub with chart jupyterhub@4.1.0", failed.Status.Cause);
        Assert.Contains("sandbox-fail", failed.Status.LastFailure!.Message);

        var degraded = await world.WaitForAppAsync(workspace, "mlflow", v => v.Status.State == AppState.Degraded, "MLflow to be Degraded");
        Assert.Contains("mlflow 0/1 ready", degraded.Status.Cause);
        // The release itself says success: only the workload readiness tells the truth.
        Assert.Equal("True", AppStatus.Condition(degraded.App.Report!, "Released")!.Status);

        // Removed with "also delete data": its claims' volumes go with them.
        await world.WaitForAppAsync(workspace, "superset", v => v.Status.State == AppState.Ready, "Superset to be Ready");
        Assert.Equal(2, world.ClusterObjects(workspace.Id).Count(o => Kind(o) == "PersistentVolume"));
        Assert.True((await apps.RemoveAsync(world.TenantId, workspace, "superset", "superset", deleteData: true, SandboxInstallWorld.Admin,
            CancellationToken.None)).Succeeded);
        await Eventually.ValueAsync(() => Task.FromResult(world.ClusterObjects(workspace.Id).Count(o => Kind(o) == "PersistentVolume")), n => n == 0,
            "Superset's volumes to be deleted with its data", Deadline);
    }

    [Fact]
    public async Task A_release_stuck_pending_is_detected_unlocked_by_flux_through_the_agent_audited_and_then_ready()
    {
        await using var world = await SandboxInstallWorld.StartAsync(SandboxInstallWorld.RepositoryModules);
        var workspace = await world.ReadyWorkspaceAsync("lake");
        var apps = world.Portal.Get<WorkspaceApps>();
        Assert.True((await apps.InstallAsync(world.TenantId, workspace, "mlflow", null, null, null, SandboxInstallWorld.Admin,
            CancellationToken.None)).Succeeded);
        await world.WaitForAppAsync(workspace, "mlflow", v => v.Status.State == AppState.Ready, "MLflow to be Ready");

        // The simulated helm-controller "dies" in the middle of this upgrade: Helm's record stays pending-upgrade.
        var upgrade = await apps.UpgradeAsync(world.TenantId, workspace, "mlflow", null,
            JsonNode.Parse("""{ "artifactRoot": { "s3": { "path": "runs/sandbox-stuck" } } }""")!.AsObject(), null, SandboxInstallWorld.Admin,
            CancellationToken.None);
        Assert.True(upgrade.Succeeded, Describe(upgrade.Errors));
        var stuck = await world.WaitForAppAsync(workspace, "mlflow", v => v.App.Stuck is { UnlockRequestedAt: not null },
            "the stuck release to be detected");
        Assert.Equal("pending-upgrade", stuck.App.Stuck!.Status);

        // The agent had Flux reconcile it, forced: unlocked (the pending release marked failed) and retried, which succeeds.
        var ready = await world.WaitForAppAsync(workspace, "mlflow",
            v => v.Status.State == AppState.Ready && v.App.Report?.DesiredRevision == "2" && v.App.Stuck is null, "the unlocked upgrade to be Ready");
        Assert.Equal("deployed", ready.App.Report!.ReleaseStatus);
        var release = Assert.Single(world.ClusterObjects(workspace.Id), o => Kind(o) == "HelmRelease");
        Assert.Contains(release["status"]!["history"]!.AsArray(), h => h!["status"]!.GetValue<string>() == "failed");
        Assert.NotNull(release["metadata"]!["annotations"]!["reconcile.fluxcd.io/forceAt"]);
        Assert.Equal(1, await world.CountAsync("select count(*) from audit_events where action = 'app.stuck_detected'"));
        Assert.Equal(1, await world.CountAsync("select count(*) from audit_events where action = 'app.stuck_cleared'"));
        Assert.Equal(1, await world.CountAsync(
            "select count(*) from agent_commands where type = 'release.reconcile' and status = 'succeeded'"));
    }

    private static string Describe(Cogrion.Portal.Infrastructure.Http.FieldErrors errors) =>
        string.Join("; ", errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
}
