using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Support;

/// <summary>
/// Support access over HTTP, as people call it: a platform admin asks; the tenant's admin reads it; another tenant's
/// admin guessing its id finds nothing (404) and cannot deny or revoke it; another platform admin does not see it;
/// the requester cannot approve it even as an admin of that tenant.
/// </summary>
public sealed class SupportApiTests(WorkspaceAgentWorld world) : IClassFixture<WorkspaceAgentWorld>
{
    [Fact]
    public async Task A_request_is_the_tenants_and_the_requesters_only_and_the_requester_cannot_approve_it()
    {
        TestUser outsider, otherPlatformAdmin;
        await using (var connection = new NpgsqlConnection(world.ConnectionString))
        {
            outsider = await TestUsers.CreateAsync(connection, "bea-" + Guid.NewGuid().ToString("N")[..6]);
            otherPlatformAdmin = await TestUsers.CreateAsync(connection, "pat-" + Guid.NewGuid().ToString("N")[..6], platformAdmin: true);
            var beta = await connection.ExecuteScalarAsync<Guid>(
                "insert into tenants (slug, name, domain) values (@slug, 'Beta', @domain) returning id",
                new { slug = "b" + outsider.Username, domain = $"b{outsider.Username}.{TestSettings.BaseDomain}" });
            await connection.ExecuteAsync("insert into tenant_memberships (tenant_id, user_id, role) values (@beta, @id, 'admin')",
                new { beta, id = outsider.Id });
        }
        var outsiderSlug = "b" + outsider.Username;

        using var created = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Post, "/api/v1/support/requests", JsonContent.Create(new
        {
            tenantId = world.TenantId,
            workspaceId = world.WorkspaceId,
            reason = "Investigate failing airflow scheduler",
            ticket = "INC-9",
            scope = "status+logs",
            durationHours = 2,
        })));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();

        using var invalid = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Post, "/api/v1/support/requests", JsonContent.Create(new
        {
            tenantId = world.TenantId,
            workspaceId = world.WorkspaceId,
            reason = "short",
            durationHours = 100,
        })));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var problems = await invalid.Content.ReadAsStringAsync();
        Assert.Contains("reason", problems);
        Assert.Contains("duration", problems);

        using var own = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Get,
            $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/support/requests/{id}"));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Contains("\"status\":\"pending\"", await own.Content.ReadAsStringAsync());

        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, $"/api/v1/tenants/{outsiderSlug}/support/requests/{id}"),
            (HttpMethod.Post, $"/api/v1/tenants/{outsiderSlug}/support/requests/{id}/deny"),
            (HttpMethod.Post, $"/api/v1/tenants/{outsiderSlug}/support/requests/{id}/revoke"),
        })
        {
            using var response = await world.Client.SendAsync(new HttpRequestMessage(method, path).As(outsider));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        using (var other = await world.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/v1/support/requests/{id}")
            .As(otherPlatformAdmin)))
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using (var mine = await world.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/support/requests").As(otherPlatformAdmin)))
            Assert.DoesNotContain(id.ToString(), await mine.Content.ReadAsStringAsync());

        // The requester is also an admin of the tenant here: approving their own request is refused before any signature is checked.
        using var self = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Post,
            $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/support/requests/{id}/approve", JsonContent.Create(new
            {
                grant = new
                {
                    requestId = id,
                    tenantId = world.TenantId,
                    workspaceId = world.WorkspaceId,
                    agentId = world.Agent.AgentId,
                    requesterId = world.Admin.Id,
                    scope = "status+logs",
                    notBefore = 1,
                    notAfter = 2,
                },
                assertion = new { credentialId = "AA", authenticatorData = "AA", clientDataJson = "AA", signature = "AA" },
            })));
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
        Assert.Contains("another tenant admin must approve", await self.Content.ReadAsStringAsync());

        // The tenant denies it; it is closed for good, and the agent is told.
        using var denied = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Post,
            $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/support/requests/{id}/deny"));
        Assert.Equal(HttpStatusCode.OK, denied.StatusCode);
        Assert.Contains("\"status\":\"denied\"", await denied.Content.ReadAsStringAsync());
        Assert.Equal(1, await world.ScalarAsync<long>(
            "select count(*) from agent_commands where agent_id = @AgentId and type = 'support.revoke' and payload ->> 'requestId' = @id",
            new { world.Agent.AgentId, id = id.ToString() }));
        Assert.Equal(1, await world.ScalarAsync<long>(
            "select count(*) from audit_events where tenant_id = @TenantId and action = 'support.denied' and target_id = @id",
            new { world.TenantId, id = id.ToString() }));
    }
}
