using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// The operator API for what the fleet and agent pages' buttons do: platform admins only, the
/// workspace must exist in the tenant named, commands go to the agent's own tenant, all audited.
/// </summary>
public sealed class AgentAdminApiTests(ProductionWorkspaceAgentWorld world) : IClassFixture<ProductionWorkspaceAgentWorld>
{
    private const string Tokens = "/api/v1/admin/agents/bootstrap-tokens";
    private static string Commands(Guid agentId) => $"/api/v1/admin/agents/{agentId}/commands";

    private Task<HttpResponseMessage> PostAsync(string path, object body, TestUser? user = null) =>
        world.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) }.As(user ?? world.Admin));

    private async Task<long> CountAsync(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(world.ConnectionString);
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    [Fact]
    public async Task A_platform_admin_mints_a_token_for_a_workspace_of_the_tenant_and_an_agent_registers_with_it()
    {
        var workspaceId = await world.NewWorkspaceAsync("minted", "10.50.0.0/16");
        const string mints = "select count(*) from audit_events where action = 'agent.bootstrap_token_created' and target_id = @id";
        var audited = await CountAsync(mints, new { id = workspaceId.ToString() });

        var response = await PostAsync(Tokens, new { tenantId = world.TenantId, workspaceId });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var minted = (await response.Content.ReadFromJsonAsync<AgentAdminApi.BootstrapTokenResponse>())!;
        Assert.Contains(minted.Token, minted.Manifest);
        using var key = ProtocolKeys.Create();
        var registered = await ProtocolAgent.RegisterRawAsync(world.Client, minted.Token, key);
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        var registration = (await registered.Content.ReadFromJsonAsync(ProtocolJson.Default.RegistrationResponse))!;
        Assert.Equal((world.TenantId, workspaceId), (registration.TenantId, registration.WorkspaceId));
        Assert.Equal(audited + 1, await CountAsync(mints, new { id = workspaceId.ToString() }));
    }

    [Fact]
    public async Task Minting_for_a_workspace_that_does_not_exist_in_that_tenant_is_a_404_and_mints_nothing()
    {
        var otherTenant = await NewTenantAsync();
        var before = await CountAsync("select count(*) from agent_bootstrap_tokens");

        var unknownWorkspace = await PostAsync(Tokens, new { tenantId = world.TenantId, workspaceId = Guid.NewGuid() });
        var unknownTenant = await PostAsync(Tokens, new { tenantId = Guid.NewGuid(), workspaceId = world.WorkspaceId });
        var anotherTenants = await PostAsync(Tokens, new { tenantId = otherTenant, workspaceId = world.WorkspaceId });

        Assert.Equal(HttpStatusCode.NotFound, unknownWorkspace.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownTenant.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, anotherTenants.StatusCode);
        Assert.Equal("application/problem+json", anotherTenants.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await CountAsync("select count(*) from agent_bootstrap_tokens"));
    }

    [Fact]
    public async Task The_fleet_pages_mint_refuses_a_workspace_outside_the_tenant_as_the_api_does()
    {
        var operations = world.Get<AgentOperations>();

        var refused = await operations.MintBootstrapTokenAsync(await NewTenantAsync(), world.WorkspaceId, Actor.System("test"),
            CancellationToken.None);
        var minted = await operations.MintBootstrapTokenAsync(world.TenantId, world.WorkspaceId, Actor.System("test"), CancellationToken.None);

        Assert.True(refused.IsNotFound);
        Assert.True(minted.Succeeded);
    }

    [Fact]
    public async Task A_platform_admin_sends_an_operator_command_which_lands_in_the_agents_own_tenant()
    {
        var response = await PostAsync(Commands(world.Agent.AgentId), new { type = CommandTypes.ReportInventory });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var sent = (await response.Content.ReadFromJsonAsync<AgentAdminApi.SentCommandResponse>())!;
        var command = (await world.Get<AgentCommandQueue>().HistoryAsync(world.Agent.AgentId, 100, CancellationToken.None))
            .Single(c => c.Id == sent.Id);
        Assert.Equal(CommandTypes.ReportInventory, command.Type);
        Assert.Equal(1,
            await CountAsync("select count(*) from agent_commands where id = @Id and tenant_id = @TenantId", new { sent.Id, world.TenantId }));
        Assert.Equal(1, await CountAsync("""
            select count(*) from audit_events
            where action = 'agent.command_enqueued' and tenant_id = @TenantId and details::text like '%' || @id || '%'
            """,
            new { world.TenantId, id = sent.Id.ToString() }));
    }

    [Fact]
    public async Task A_command_operators_may_not_send_is_a_400_and_an_unknown_agent_a_404()
    {
        var uninstall = await PostAsync(Commands(world.Agent.AgentId), new { type = CommandTypes.Uninstall });
        var unknown = await PostAsync(Commands(Guid.NewGuid()), new { type = CommandTypes.ReportInventory });

        Assert.Equal(HttpStatusCode.BadRequest, uninstall.StatusCode);
        using var problem = JsonDocument.Parse(await uninstall.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("type", out _));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_tenant_admin_who_is_not_a_platform_admin_can_do_neither()
    {
        var tenantAdmin = new TestUser(world.Admin.Id, world.Admin.Username, PlatformAdmin: false);

        var mint = await PostAsync(Tokens, new { tenantId = world.TenantId, workspaceId = world.WorkspaceId }, tenantAdmin);
        var command = await PostAsync(Commands(world.Agent.AgentId), new { type = CommandTypes.ReportInventory }, tenantAdmin);

        Assert.Equal(HttpStatusCode.Forbidden, mint.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, command.StatusCode);
    }

    private async Task<Guid> NewTenantAsync()
    {
        var slug = "other-" + Guid.NewGuid().ToString("N")[..8];
        await using var connection = new NpgsqlConnection(world.ConnectionString);
        return await connection.ExecuteScalarAsync<Guid>("insert into tenants (slug, name, domain) values (@slug, @slug, @domain) returning id",
            new { slug, domain = $"{slug}.{TestSettings.BaseDomain}" });
    }
}
