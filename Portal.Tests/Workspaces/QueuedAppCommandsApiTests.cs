using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// The queued-commands API over HTTP with a registered agent: the app's queue with expiries; cancel answers 404 problem
/// details for an id that is not one of this app's commands (another app's, another tenant's, none), 409 once the agent
/// has taken it, and 202 with what it withdrew otherwise, audited, with the app's desired state following.
/// </summary>
public sealed class QueuedAppCommandsApiTests(WorkspaceAgentWorld world) : IClassFixture<WorkspaceAgentWorld>
{
    private const string Apps = $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/workspaces/{WorkspaceAgentWorld.WorkspaceName}/apps";

    [Fact]
    public async Task Cancel_is_404_for_a_foreign_id_409_once_delivered_and_withdraws_an_undelivered_change()
    {
        var workspace = (await world.Get<WorkspaceStore>().FindByNameAsync(world.TenantId, WorkspaceAgentWorld.WorkspaceName, default))!;
        var apps = world.Get<WorkspaceApps>();
        var actor = Actor.User(world.Admin.Id, world.Admin.Username);
        Assert.True((await apps.InstallAsync(world.TenantId, workspace, "mlflow", null, null, null, actor, default)).Succeeded);

        var listed = await SendAsync(HttpMethod.Get, $"{Apps}/mlflow/commands/queued");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var queue = (await listed.Content.ReadFromJsonAsync<JsonArray>())!;
        Assert.Equal(["Install", "Install"], queue.Select(c => c!["action"]!.GetValue<string>()));
        Assert.All(queue, c => Assert.Equal("Waiting", c!["state"]!.GetValue<string>()));
        Assert.All(queue, c => Assert.True(c!["expiresAt"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddHours(23)));
        var namespaceCommand = queue[0]!["id"]!.GetValue<Guid>();

        // Not one of this app's commands: the agent's other pending command, and an id nobody has.
        foreach (var id in new[] { world.PendingCommandId, Guid.NewGuid() })
        {
            var foreign = await SendAsync(HttpMethod.Post, $"{Apps}/mlflow/commands/{id}/cancel");
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
            Assert.Equal("application/problem+json", foreign.Content.Headers.ContentType?.MediaType);
        }
        // Another tenant's route to this command: not found either.
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post,
            $"/api/v1/tenants/no-such-tenant/workspaces/{WorkspaceAgentWorld.WorkspaceName}/apps/mlflow/commands/{namespaceCommand}/cancel"))
            .StatusCode);

        // The agent takes its commands: now it is too late.
        using (var poll = await world.Agent.SendAsync(HttpMethod.Get, ProtocolV1.Commands, await world.AgentTokenAsync()))
            Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        var late = await SendAsync(HttpMethod.Post, $"{Apps}/mlflow/commands/{namespaceCommand}/cancel");
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("cannot be withdrawn", (await late.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>());
        Assert.Equal("pending", await world.ScalarAsync<string>("select status from agent_commands where id = @namespaceCommand",
            new { namespaceCommand }));

        // Undelivered: a removal queued after it is withdrawn, and the app stays installed.
        Assert.True((await apps.RemoveAsync(world.TenantId, workspace, "mlflow", "mlflow", actor, default)).Succeeded);
        var appId = (await apps.FindAsync(world.TenantId, workspace.Id, "mlflow", default))!.App.Id;
        var removal = (await apps.QueuedAsync(world.TenantId, appId, default)).Single(c => c.Action == QueuedAppAction.Remove);
        var cancelled = await SendAsync(HttpMethod.Post, $"{Apps}/mlflow/commands/{removal.Id}/cancel");
        Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        var body = (await cancelled.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(removal.Id, Assert.Single(body["cancelled"]!.AsArray())!.GetValue<Guid>());
        Assert.Contains("stays installed", body["effect"]!.GetValue<string>());
        Assert.Equal(AppDesiredState.Installed, (await apps.FindAsync(world.TenantId, workspace.Id, "mlflow", default))!.App.DesiredState);
        Assert.Equal("cancelled", await world.ScalarAsync<string>("select status from agent_commands where id = @Id", new { removal.Id }));
        Assert.Equal(1, await world.ScalarAsync<long>(
            "select count(*) from audit_events where action = 'app.remove_cancelled' and actor_id = @id", new { id = world.Admin.Id.ToString() }));
        // Once cancelled, it is gone from the queue, and cancelling it again is a conflict that says so.
        Assert.DoesNotContain(await apps.QueuedAsync(world.TenantId, appId, default), c => c.Id == removal.Id);
        var again = await SendAsync(HttpMethod.Post, $"{Apps}/mlflow/commands/{removal.Id}/cancel");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path) =>
        await world.Client.SendAsync(world.AsAdmin(method, path));
}
