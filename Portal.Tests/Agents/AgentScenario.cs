using System.Text.Json.Nodes;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// One tenant's workspace with the real Portal on a Kestrel port, a database of its own, and the
/// real agent binary registered to it: installed into a simulated cluster from the install template,
/// started by the cluster's kubelet from its Deployment. Tenants and workspaces are plain ids here.
/// </summary>
public sealed class AgentScenario : IAsyncDisposable
{
    public static readonly Dictionary<string, string?> FastPortal = new()
    {
        ["Agents:HeartbeatInterval"] = "00:00:01",
        ["Agents:OfflineAfter"] = "00:00:03",
        // The test agent beats 30 times as often as a real one, and a test that asks again every 100 ms (support's listing until
        // the kubelet's events show) costs a poll and a result per ask: the per-agent budget (120 calls a minute) scales with that
        // pace, or a loaded machine runs it out and every call waits out a Retry-After.
        ["Agents:AgentPermitsPerMinute"] = "6000",
    };

    public required string ConnectionString { get; init; }
    public required string DatabaseName { get; init; }
    public required PortalServer Portal { get; set; }
    public required AgentProcess Agent { get; set; }
    public required Guid TenantId { get; init; }
    public required Guid WorkspaceId { get; init; }
    public Guid AgentId { get; private set; }

    public static readonly Actor Admin = Actor.User(Guid.NewGuid(), "test-admin");

    public static async Task<(PortalServer Portal, string ConnectionString, string DatabaseName)> StartPortalAsync(
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateMigratedDatabaseAsync("agents");
        var connectionString = server.ConnectionString(database);
        var overrides = new Dictionary<string, string?>(FastPortal);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) overrides[key] = value;
        return (await PortalServer.StartAsync(connectionString, overrides: overrides), connectionString, database);
    }

    /// <summary>
    /// The scenario; <paramref name="settings"/> adds to (or replaces) <see cref="FastPortal"/>'s Portal settings, and
    /// <paramref name="agentEnvironment"/> replaces the agent's <see cref="AgentProcess.FastTimings"/>.
    /// </summary>
    public static async Task<AgentScenario> StartAsync(IReadOnlyDictionary<string, string?>? settings = null,
        IReadOnlyDictionary<string, string>? agentEnvironment = null)
    {
        var (portal, connectionString, database) = await StartPortalAsync(settings);
        var tenantId = Guid.NewGuid();
        var workspaceId = Guid.NewGuid();
        var token = await portal.Get<AgentEnrollment>().CreateBootstrapTokenAsync(tenantId, workspaceId, Admin, CancellationToken.None);
        var agent = await AgentProcess.StartClusterAsync();
        await agent.InstallAsync(tenantId, workspaceId, portal.BaseUrl, token.Token, extraEnvironment: agentEnvironment);
        var scenario = new AgentScenario
        {
            ConnectionString = connectionString,
            DatabaseName = database,
            Portal = portal,
            Agent = agent,
            TenantId = tenantId,
            WorkspaceId = workspaceId,
        };
        await agent.WaitForOutputAsync("is connected to the Portal");
        var registered = await portal.Get<AgentRegistry>().ListForWorkspaceAsync(tenantId, workspaceId, CancellationToken.None);
        scenario.AgentId = Assert.Single(registered).Id;
        return scenario;
    }

    public async Task<Guid> EnqueueAsync(string type, JsonObject? payload = null, PortalServer? via = null)
    {
        var queued = await (via ?? Portal).Get<AgentCommandQueue>().EnqueueAsync(
            new NewAgentCommand(TenantId, AgentId, type, payload), Admin, CancellationToken.None);
        return queued!.Id;
    }

    public async Task<AgentCommandView> CommandAsync(Guid commandId) =>
        (await Portal.Get<AgentCommandQueue>().HistoryAsync(AgentId, 100, CancellationToken.None)).Single(c => c.Id == commandId);

    /// <summary>Waits until the agent has reported a result for the command.</summary>
    public Task<AgentCommandView> CompletedAsync(Guid commandId, PortalServer? via = null, TimeSpan? deadline = null) =>
        Eventually.ValueAsync(
            async () => (await (via ?? Portal).Get<AgentCommandQueue>().HistoryAsync(AgentId, 100, CancellationToken.None))
                .Single(c => c.Id == commandId),
            c => c.Status != "pending", $"a result for command {commandId}", deadline);

    public async Task<AgentSummary> AgentAsync() => (await Portal.Get<AgentRegistry>().GetAsync(AgentId, CancellationToken.None))!;

    /// <summary>namespace.ensure's payload for an app namespace as an install builds it (<see cref="AppNamespaces.Payload"/>).</summary>
    public static JsonObject Namespace(string name) => AppNamespaces.Payload(name);

    /// <summary>An app namespace as production makes it, through this Portal and the agent (<see cref="AppNamespaces"/>).</summary>
    public Task<AgentCommandAnswer> EnsureAppNamespaceAsync(string name, string app = AppNamespaces.DefaultApp) =>
        Portal.EnsureAppNamespaceAsync(TenantId, AgentId, name, Admin, app);

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync();
        await Portal.DisposeAsync();
        await (await PostgresServer.GetAsync()).DropDatabaseAsync(DatabaseName);
    }
}
