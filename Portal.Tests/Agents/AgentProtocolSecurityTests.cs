using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Infrastructure.Http;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>Protocol v1's refusals, call by call over HTTP against the real Portal.</summary>
public sealed class AgentProtocolSecurityTests : IAsyncLifetime
{
    private PortalServer portal = null!;
    private string connectionString = "";
    private string database = "";

    public async Task InitializeAsync() => (portal, connectionString, database) = await AgentScenario.StartPortalAsync();

    public async Task DisposeAsync()
    {
        await portal.DisposeAsync();
        await (await PostgresServer.GetAsync()).DropDatabaseAsync(database);
    }

    private Task<BootstrapToken> MintAsync(Guid? tenantId = null, Guid? workspaceId = null) =>
        portal.Get<AgentEnrollment>()
            .CreateBootstrapTokenAsync(tenantId ?? Guid.NewGuid(), workspaceId ?? Guid.NewGuid(), AgentScenario.Admin, CancellationToken.None);

    private async Task<ProtocolAgent> RegisterAsync(Guid? tenantId = null)
        => await ProtocolAgent.RegisterAsync(portal.BaseUrl, (await MintAsync(tenantId)).Token);

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact]
    public async Task A_bootstrap_token_registers_only_once()
    {
        var token = await MintAsync();
        using var first = await ProtocolAgent.RegisterAsync(portal.BaseUrl, token.Token);
        using var key = ProtocolKeys.Create();

        var second = await ProtocolAgent.RegisterRawAsync(first.Http, token.Token, key);

        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        Assert.Equal(ProblemTypes.InvalidBootstrapToken, (await ProblemAsync(second)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task An_expired_bootstrap_token_is_refused()
    {
        var token = await MintAsync();
        await using (var connection = new NpgsqlConnection(connectionString))
            await connection.ExecuteAsync("update agent_bootstrap_tokens set expires_at = now() - interval '1 second' where id = @Id",
                new { token.Id });
        using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        using var key = ProtocolKeys.Create();

        var response = await ProtocolAgent.RegisterRawAsync(http, token.Token, key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Only_the_hash_of_a_bootstrap_token_is_stored()
    {
        var token = await MintAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        var stored = await connection.QuerySingleAsync<byte[]>("select token_hash from agent_bootstrap_tokens where id = @Id", new { token.Id });
        var dump = await connection.QuerySingleAsync<string>("select row_to_json(t)::text from agent_bootstrap_tokens t where id = @Id",
            new { token.Id });

        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token.Token)), stored);
        Assert.DoesNotContain(token.Token, dump);
    }

    [Fact]
    public async Task A_replayed_client_assertion_is_refused()
    {
        using var agent = await RegisterAsync();
        var assertion = agent.Assertion();
        Assert.Equal(HttpStatusCode.OK, (await agent.RequestTokenAsync(assertion)).StatusCode);

        var replay = await agent.RequestTokenAsync(assertion);

        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        var problem = await ProblemAsync(replay);
        Assert.Equal(ProblemTypes.InvalidAssertion, problem.GetProperty("type").GetString());
        Assert.Contains("already used", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_assertion_that_lives_longer_than_five_minutes_is_refused()
    {
        using var agent = await RegisterAsync();

        var response = await agent.RequestTokenAsync(agent.Assertion(lifetime: TimeSpan.FromMinutes(10)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_assertion_for_another_audience_is_refused()
    {
        using var agent = await RegisterAsync();

        var response = await agent.RequestTokenAsync(agent.Assertion(audience: "https://elsewhere.example/api/agent/v1/token"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_assertion_signed_with_another_key_is_refused()
    {
        using var agent = await RegisterAsync();
        using var other = ProtocolKeys.Create();
        var claims = new AssertionClaims(agent.AgentId.ToString(), agent.AgentId.ToString(), agent.Registration.TokenAudience, "x1",
            DateTimeOffset.UtcNow.ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());

        var response = await agent.RequestTokenAsync(Jws.Sign(claims, ProtocolJson.Default.AssertionClaims, ProtocolV1.AssertionJwsType, null,
            other));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_expired_access_token_is_refused()
    {
        using var agent = await RegisterAsync();
        var token = await agent.TokenAsync();
        await using (var connection = new NpgsqlConnection(connectionString))
            await connection.ExecuteAsync("update agents set access_token_expires_at = now() - interval '1 second' where id = @AgentId",
                new { agent.AgentId });

        var response = await agent.SendAsync(HttpMethod.Get, ProtocolV1.Commands + "?wait=0", token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(ProblemTypes.InvalidToken, (await ProblemAsync(response)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task An_unauthenticated_agent_call_gets_401_problem_details_not_a_sign_in_redirect()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(portal.BaseUrl) };

        var response = await http.GetAsync(ProtocolV1.Commands);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(401, (await ProblemAsync(response)).GetProperty("status").GetInt32());
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task A_revoked_agent_is_refused_at_its_next_call_and_learns_the_reason_with_its_own_key()
    {
        using var agent = await RegisterAsync();
        var token = await agent.TokenAsync();

        await portal.Get<AgentRegistry>().RevokeAsync(agent.AgentId, "Key leaked.", AgentScenario.Admin, CancellationToken.None);
        var call = await agent.SendAsync(HttpMethod.Get, ProtocolV1.Commands + "?wait=0", token);
        var renewal = await agent.RequestTokenAsync(agent.Assertion());

        // The revocation cleared its token: the call says "get a new one", and asking with the agent's key says why not.
        Assert.Equal(HttpStatusCode.Unauthorized, call.StatusCode);
        Assert.Equal(ProblemTypes.InvalidToken, (await ProblemAsync(call)).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, renewal.StatusCode);
        var problem = await ProblemAsync(renewal);
        Assert.Equal(ProblemTypes.AgentRevoked, problem.GetProperty("type").GetString());
        Assert.Equal("Key leaked.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_anonymous_caller_learns_nothing_about_why_an_agent_was_revoked()
    {
        using var agent = await RegisterAsync();
        await portal.Get<AgentRegistry>().RevokeAsync(agent.AgentId, "Replaced by agent 42.", AgentScenario.Admin, CancellationToken.None);
        using var strangerKey = ProtocolKeys.Create();
        var forged = new ProtocolAgent(agent.Http, strangerKey, agent.Registration);

        var token = await forged.RequestTokenAsync(forged.Assertion());
        var bearer = await agent.SendAsync(HttpMethod.Get, ProtocolV1.Commands + "?wait=0",
            $"{agent.AgentId:N}.{System.Buffers.Text.Base64Url.EncodeToString(new byte[32])}");
        var stranger = new ProtocolAgent(agent.Http, strangerKey, agent.Registration with { AgentId = Guid.NewGuid() });
        var unknown = await stranger.RequestTokenAsync(stranger.Assertion());

        foreach (var response in new[] { token, bearer })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("Replaced", body);
            Assert.DoesNotContain("revoked", body, StringComparison.OrdinalIgnoreCase);
        }
        // A revoked agent and an agent that never existed look the same to a caller without its key.
        Assert.Equal((await ProblemAsync(unknown)).GetProperty("detail").GetString(), (await ProblemAsync(token)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Another_tenants_agent_can_neither_receive_nor_complete_this_tenants_commands()
    {
        var tenantA = Guid.NewGuid();
        using var agentA = await RegisterAsync(tenantA);
        using var agentB = await RegisterAsync(Guid.NewGuid());
        var queue = portal.Get<AgentCommandQueue>();
        var command = await queue.EnqueueAsync(new NewAgentCommand(tenantA, agentA.AgentId, CommandTypes.ReportInventory), AgentScenario.Admin,
            CancellationToken.None);
        var tokenB = await agentB.TokenAsync();

        var poll = await agentB.SendAsync(HttpMethod.Get, ProtocolV1.Commands + "?wait=0", tokenB);
        var result = await agentB.SendAsync(HttpMethod.Post, ProtocolV1.CommandResult(command!.Id), tokenB,
            JsonContent.Create(new CommandResult(CommandOutcomes.Succeeded, "mine now", null), ProtocolJson.Default.CommandResult));

        Assert.Equal(HttpStatusCode.NoContent, poll.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, result.StatusCode);
        Assert.Equal("pending", (await queue.HistoryAsync(agentA.AgentId, 10, CancellationToken.None)).Single().Status);
    }

    [Fact]
    public async Task A_command_cannot_be_enqueued_for_another_tenants_agent()
    {
        using var agent = await RegisterAsync(Guid.NewGuid());

        var queued = await portal.Get<AgentCommandQueue>().EnqueueAsync(
            new NewAgentCommand(Guid.NewGuid(), agent.AgentId, CommandTypes.ReportInventory), AgentScenario.Admin, CancellationToken.None);

        Assert.Null(queued);
    }

    [Fact]
    public async Task Enqueueing_twice_with_one_idempotency_key_makes_one_command()
    {
        var tenant = Guid.NewGuid();
        using var agent = await RegisterAsync(tenant);
        var queue = portal.Get<AgentCommandQueue>();
        var request = new NewAgentCommand(tenant, agent.AgentId, CommandTypes.ReportInventory, IdempotencyKey: "install-airflow-1");

        var first = await queue.EnqueueAsync(request, AgentScenario.Admin, CancellationToken.None);
        var second = await queue.EnqueueAsync(request, AgentScenario.Admin, CancellationToken.None);

        Assert.Equal(first!.Id, second!.Id);
        Assert.False(second.Created);
    }

    [Fact]
    public async Task A_key_cannot_be_replaced_without_a_pending_rotation_command()
    {
        using var agent = await RegisterAsync();
        var token = await agent.TokenAsync();
        using var newKey = ProtocolKeys.Create();

        var response = await agent.SendAsync(HttpMethod.Put, ProtocolV1.Key, token,
            JsonContent.Create(new KeyRotationRequest(Guid.NewGuid(), ProtocolKeys.ExportPublicKey(newKey)),
                ProtocolJson.Default.KeyRotationRequest));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task Every_state_change_of_an_agent_is_audited()
    {
        var tenant = Guid.NewGuid();
        using var agent = await RegisterAsync(tenant);
        var queue = portal.Get<AgentCommandQueue>();
        var command = await queue.EnqueueAsync(new NewAgentCommand(tenant, agent.AgentId, CommandTypes.ReportInventory), AgentScenario.Admin,
            CancellationToken.None);
        var token = await agent.TokenAsync();
        await agent.SendAsync(HttpMethod.Post, ProtocolV1.CommandResult(command!.Id), token,
            JsonContent.Create(new CommandResult(CommandOutcomes.Succeeded, "done", null), ProtocolJson.Default.CommandResult));
        await portal.Get<AgentRegistry>().RevokeAsync(agent.AgentId, "test", AgentScenario.Admin, CancellationToken.None);

        await using var connection = new NpgsqlConnection(connectionString);
        var actions = (await connection.QueryAsync<string>("select action from audit_events where tenant_id = @tenant order by id", new { tenant }))
            .ToList();

        Assert.Equal(["agent.bootstrap_token_created", "agent.registered", "agent.command_enqueued", "agent.command_completed", "agent.revoked"],
            actions);
    }
}
