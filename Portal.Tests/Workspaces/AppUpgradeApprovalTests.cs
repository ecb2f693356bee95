using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// Operator approval of app upgrades, as runs have it, over the real HTTP API and PostgreSQL with a registered agent:
/// in a workspace whose approval mode is manual an upgrade changes nothing and queues nothing until an operator
/// approves it (then it is the next revision with its release command), a rejected one changes nothing, and one asked
/// against a revision that has since moved is refused as stale. Each step is audited.
/// </summary>
public sealed class AppUpgradeApprovalTests(WorkspaceAgentWorld world) : IClassFixture<WorkspaceAgentWorld>
{
    private const string Apps = $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/workspaces/{WorkspaceAgentWorld.WorkspaceName}/apps";

    [Fact]
    public async Task A_manual_workspace_upgrade_waits_for_an_operator_and_a_rejected_or_stale_one_changes_nothing()
    {
        var workspace = (await world.Get<WorkspaceStore>().FindByNameAsync(world.TenantId, WorkspaceAgentWorld.WorkspaceName, default))!;
        Assert.Equal(ApprovalMode.Manual, workspace.ApprovalMode);
        var apps = world.Get<WorkspaceApps>();
        var actor = Actor.User(world.Admin.Id, world.Admin.Username);
        var installed = await apps.InstallAsync(world.TenantId, workspace, "mlflow", null, null, null, actor, default);
        Assert.True(installed.Succeeded, string.Join(" ", installed.Errors.ToDictionary().SelectMany(e => e.Value)));
        var appId = installed.Value!.Id;

        // Asked: the answer says it waits, with the chart change and the diff; nothing is queued and the revision stays.
        var asked = await SendAsync(HttpMethod.Post, $"{Apps}/mlflow/upgrade", """{ "chartVersion": "1.6.2", "values": { "replicaCount": 2 } }""");
        Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
        var answer = (await asked.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(1, answer["revision"]!.GetValue<int>());
        var waiting = answer["awaitingApproval"]!;
        Assert.Contains(waiting["changes"]!.AsArray(), c => c!["path"]!.GetValue<string>() == "replicaCount");
        var upgradeId = waiting["id"]!.GetValue<Guid>();
        Assert.Equal(0, await ReleaseCommandsAsync(appId, 2));
        Assert.Equal(1, await world.ScalarAsync<long>(
            "select count(*) from audit_events where action = 'app.upgrade_awaiting_approval' and target_id = @id", new { id = appId.ToString() }));
        var pending = await SendAsync(HttpMethod.Get, $"{Apps}/mlflow/upgrades/pending");
        Assert.Equal(HttpStatusCode.OK, pending.StatusCode);

        // Approved: the next revision, exactly as asked, with its release command.
        var approved = await SendAsync(HttpMethod.Post, $"{Apps}/mlflow/upgrades/{upgradeId}/approve");
        Assert.Equal(HttpStatusCode.Accepted, approved.StatusCode);
        var app = (await apps.FindAsync(world.TenantId, workspace.Id, "mlflow", default))!.App;
        Assert.Equal(2, app.Revision);
        Assert.Equal(2, app.Values["replicaCount"]!.GetValue<int>());
        Assert.Equal(1, await ReleaseCommandsAsync(appId, 2));
        Assert.Equal(1, await world.ScalarAsync<long>("select count(*) from audit_events where action = 'app.upgrade_approved'"));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, $"{Apps}/mlflow/upgrades/{upgradeId}/approve")).StatusCode);

        // Rejected: nothing changes.
        Assert.True((await apps.UpgradeAsync(world.TenantId, workspace, "mlflow", null, JsonNode.Parse("""{ "replicaCount": 3 }""")!.AsObject(),
            null, actor, default)).Succeeded);
        var second = (await apps.PendingUpgradeAsync(world.TenantId, appId, default))!;
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(HttpMethod.Post, $"{Apps}/mlflow/upgrades/{second.Id}/reject")).StatusCode);
        Assert.Equal(2, (await apps.FindAsync(world.TenantId, workspace.Id, "mlflow", default))!.App.Revision);
        Assert.Equal(0, await ReleaseCommandsAsync(appId, 3));
        Assert.Equal(1, await world.ScalarAsync<long>("select count(*) from audit_events where action = 'app.upgrade_rejected'"));

        // Stale: a rollback moved the app after the upgrade was asked; approving it would apply an old diff.
        Assert.True((await apps.UpgradeAsync(world.TenantId, workspace, "mlflow", null, JsonNode.Parse("""{ "replicaCount": 4 }""")!.AsObject(),
            null, actor, default)).Succeeded);
        var stale = (await apps.PendingUpgradeAsync(world.TenantId, appId, default))!;
        Assert.True((await apps.RollbackAsync(world.TenantId, workspace, "mlflow", 1, actor, default)).Succeeded);
        var refused = await SendAsync(HttpMethod.Post, $"{Apps}/mlflow/upgrades/{stale.Id}/approve");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("changed since this upgrade was asked for", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await apps.PendingUpgradeAsync(world.TenantId, appId, default));
        Assert.Equal(1, (await apps.FindAsync(world.TenantId, workspace.Id, "mlflow", default))!.App.Values["replicaCount"]!.GetValue<int>());
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null) =>
        await world.Client.SendAsync(world.AsAdmin(method, path, json is null ? null : WorkspaceAgentWorld.Json(json)));

    private Task<long> ReleaseCommandsAsync(Guid appId, int revision) => world.ScalarAsync<long>(
        "select count(*) from agent_commands where idempotency_key = @key", new { key = $"app:{appId}:revision:{revision}" });
}
