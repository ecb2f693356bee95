using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Workspaces;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// One in-process Portal, run as tools/start.sh runs it (Development) unless a subclass says otherwise,
/// with everything a caller needs to get past the door (the malformed-input tests, the operator API):
/// a user who is a platform admin and an admin of tenant <see cref="Slug"/>, a verified sandbox
/// account, a workspace, a registered agent of that workspace and a command pending for it. The job
/// workers are off: nothing a test sends starts a run.
/// </summary>
public class WorkspaceAgentWorld : IAsyncLifetime
{
    public const string Slug = "acme";
    public const string WorkspaceName = "alpha";

    protected virtual string Environment => "Development";

    public PortalAppFactory Portal { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public string ConnectionString { get; private set; } = null!;
    public TestUser Admin { get; private set; } = null!;
    public Guid TenantId { get; private set; }
    public Guid AccountId { get; private set; }
    public Guid WorkspaceId { get; private set; }
    public ProtocolAgent Agent { get; private set; } = null!;

    /// <summary>A command the agent has not answered yet, so a result for it reaches the code that records results.</summary>
    public Guid PendingCommandId { get; private set; }

    public T Get<T>() where T : notnull => Portal.Services.GetRequiredService<T>();

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        ConnectionString = server.ConnectionString(await server.CreateMigratedDatabaseAsync("world"));
        Portal = new PortalAppFactory(ConnectionString, overrides: new Dictionary<string, string?>
        {
            ["Jobs:RunWorkers"] = "false",
            ["Agents:LongPollTimeout"] = "00:00:01",
            ["Agents:AgentPermitsPerMinute"] = "1000000",
            ["Agents:AnonymousPermitsPerMinute"] = "1000000",
        })
        { TestServices = TestAuthentication.Register, Environment = Environment };
        Client = Portal.CreateNonRedirectingClient();
        await Eventually.StatusAsync(Client, "/readyz", HttpStatusCode.OK);

        await using var connection = new NpgsqlConnection(ConnectionString);
        Admin = new TestUser(await connection.ExecuteScalarAsync<Guid>(
            "insert into users (subject, username, email, email_verified) values ('s-mallory', 'mallory', 'mallory@example.com', true) returning id"),
            "mallory", PlatformAdmin: true);
        TenantId = await connection.ExecuteScalarAsync<Guid>(
            "insert into tenants (slug, name, domain) values (@Slug, 'Acme', @domain) returning id",
                new { Slug, domain = $"{Slug}.{TestSettings.BaseDomain}" });
        await connection.ExecuteAsync("insert into tenant_memberships (tenant_id, user_id, role) values (@TenantId, @id, 'admin')",
            new { TenantId, id = Admin.Id });
        AccountId = await connection.ExecuteScalarAsync<Guid>("""
            insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status)
            values (@TenantId, 'sandbox', 'sandbox', 'ref-acme', '', 'ext-acme', 'verified') returning id
            """, new { TenantId });
        var created = await Get<WorkspaceCommands>().CreateAsync(TenantId, new NewWorkspace
        {
            CloudAccountId = AccountId,
            Region = "sandbox-local-1",
            Name = WorkspaceName,
            NetworkCidr = "10.40.0.0/16",
            KubernetesVersion = KubernetesTestVersions.Newest(),
            NodePools = [new NodePoolInput("default", "m6i.large", 1, 3)],
        }, Actor.User(Admin.Id, Admin.Username), CancellationToken.None);
        Assert.True(created.Succeeded, string.Join("; ", created.Errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        WorkspaceId = created.Value!.Id;

        var bootstrap = await Get<AgentEnrollment>()
            .CreateBootstrapTokenAsync(TenantId, WorkspaceId, Actor.User(Admin.Id, Admin.Username), CancellationToken.None);
        var key = ProtocolKeys.Create();
        var registered = await ProtocolAgent.RegisterRawAsync(Client, bootstrap.Token, key);
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        Agent = new ProtocolAgent(Client, key, (await registered.Content.ReadFromJsonAsync(ProtocolJson.Default.RegistrationResponse))!);
        PendingCommandId = (await Get<AgentCommandQueue>().EnqueueAsync(new NewAgentCommand(TenantId, Agent.AgentId, CommandTypes.ReportInventory),
            Actor.User(Admin.Id, Admin.Username), CancellationToken.None))!.Id;
    }

    /// <summary>Another workspace of the tenant (each test that installs an agent needs its own: a new agent replaces the workspace's previous
    /// one).</summary>
    public async Task<Guid> NewWorkspaceAsync(string name, string cidr)
    {
        var created = await Get<WorkspaceCommands>().CreateAsync(TenantId, new NewWorkspace
        {
            CloudAccountId = AccountId,
            Region = "sandbox-local-1",
            Name = name,
            NetworkCidr = cidr,
            KubernetesVersion = KubernetesTestVersions.Newest(),
            NodePools = [new NodePoolInput("default", "m6i.large", 1, 3)],
        }, Actor.User(Admin.Id, Admin.Username), CancellationToken.None);
        Assert.True(created.Succeeded, string.Join("; ", created.Errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        return created.Value!.Id;
    }

    /// <summary>A current access token of the agent (each token request replaces the previous token, so one per call).</summary>
    public Task<string> AgentTokenAsync() => Agent.TokenAsync();

    public HttpRequestMessage AsAdmin(HttpMethod method, string path, HttpContent? content = null) =>
        new HttpRequestMessage(method, path) { Content = content }.As(Admin);

    public async Task<HttpRequestMessage> AsAgentAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await AgentTokenAsync());
        return request;
    }

    /// <summary>A body exactly as given: the hostile cases are bytes a well-behaved serializer would never write.</summary>
    public static HttpContent Json(string json) => new StringContent(json, System.Text.Encoding.UTF8, "application/json");

    public async Task<T?> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.ExecuteScalarAsync<T>(sql, parameters);
    }

    public async Task DisposeAsync()
    {
        Agent.Dispose();
        await Portal.DisposeAsync();
    }
}

/// <summary>The same world as a deployed Portal runs: Production.</summary>
public sealed class ProductionWorkspaceAgentWorld : WorkspaceAgentWorld
{
    protected override string Environment => "Production";
}
