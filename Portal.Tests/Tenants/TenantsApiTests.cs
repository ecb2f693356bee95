using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Tenants;

/// <summary>The JSON API's answers to bad input and the tenant audit export, in-process on real PostgreSQL.</summary>
public sealed class TenantsApiTests : IAsyncLifetime
{
    private PortalAppFactory portal = null!;
    private HttpClient client = null!;
    private TestUser dave = null!;
    private TestUser bob = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = server.ConnectionString(await server.CreateMigratedDatabaseAsync("api"));
        portal = new PortalAppFactory(connectionString) { TestServices = TestAuthentication.Register };
        client = portal.CreateNonRedirectingClient();
        await Eventually.StatusAsync(client, "/readyz", HttpStatusCode.OK);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        dave = await TestUsers.CreateAsync(connection, "dave", subject: "s-dave");
        bob = await TestUsers.CreateAsync(connection, "bob", subject: "s-bob");
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await portal.DisposeAsync();
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, TestUser user, object? body = null)
    {
        var request = new HttpRequestMessage(method, path).As(user);
        if (body is not null) request.Content = JsonContent.Create(body);
        return client.SendAsync(request);
    }

    private static async Task<Dictionary<string, string[]>> ErrorsOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }

    [Fact]
    public async Task Bad_input_gets_a_validation_problem_with_one_entry_per_field()
    {
        var response = await SendAsync(HttpMethod.Post, "/api/v1/tenants", dave,
            new { name = "", slug = "Bad_Slug!", domain = "elsewhere.example.com" });

        var errors = await ErrorsOf(response);
        Assert.Contains("name", errors.Keys);
        Assert.Contains("slug", errors.Keys);
    }

    [Fact]
    public async Task A_child_tenant_is_created_under_its_parent_with_the_inherited_domain()
    {
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "/api/v1/tenants", dave, new { name = "Acme", slug = "acme" }))
            .StatusCode);

        var child = await SendAsync(HttpMethod.Post, "/api/v1/tenants/acme/children", dave, new { name = "Research", slug = "research" });

        Assert.Equal(HttpStatusCode.Created, child.StatusCode);
        using var json = JsonDocument.Parse(await child.Content.ReadAsStringAsync());
        Assert.Equal("research.acme." + TestSettings.BaseDomain, json.RootElement.GetProperty("domain").GetString());
    }

    [Fact]
    public async Task Inviting_an_existing_member_is_a_field_error()
    {
        await SendAsync(HttpMethod.Post, "/api/v1/tenants", dave, new { name = "Acme", slug = "acme" });

        var response = await SendAsync(HttpMethod.Post, "/api/v1/tenants/acme/invitations", dave,
            new { email = "dave@example.com", role = "viewer" });

        Assert.Contains("already a member", string.Join(" ", (await ErrorsOf(response))["email"]));
    }

    [Fact]
    public async Task The_audit_export_streams_the_tenants_own_events_as_csv_and_json_and_nobody_elses()
    {
        await SendAsync(HttpMethod.Post, "/api/v1/tenants", dave, new { name = "Acme", slug = "acme" });
        await SendAsync(HttpMethod.Post, "/api/v1/tenants/acme/children", dave, new { name = "Research", slug = "research" });
        await SendAsync(HttpMethod.Post, "/api/v1/tenants", bob, new { name = "Globex", slug = "globex" });

        var csv = await SendAsync(HttpMethod.Get, "/api/v1/tenants/acme/audit/export?format=csv", dave);
        var json = await SendAsync(HttpMethod.Get, "/api/v1/tenants/acme/audit/export?format=json&action=tenant.created", dave);
        var bad = await SendAsync(HttpMethod.Get, "/api/v1/tenants/acme/audit/export?format=xml", dave);

        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("id,occurred_at,tenant_id", lines[0]);
        Assert.Equal(2, lines.Length - 1); // acme's and research's creation; globex's is not acme's
        Assert.DoesNotContain(lines, l => l.Contains("globex"));
        using var events = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        Assert.Equal(["acme", "research"], events.RootElement.EnumerateArray().Select(e => e.GetProperty("details").GetProperty("slug").GetString())
            .Order());
        Assert.Contains("format", (await ErrorsOf(bad)).Keys);
    }
}
