using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Workspaces;
using Microsoft.Extensions.DependencyInjection;

namespace Cogrion.Portal.Tests.Input;

/// <summary>
/// Issue 12's reproductions, one test each: every request here answered 500 under tools/start.sh
/// (Development). Each now gets the answer it deserves, a 4xx problem that names what was wrong, and
/// changes nothing.
/// </summary>
public sealed class MalformedInputTests(WorkspaceAgentWorld world) : IClassFixture<WorkspaceAgentWorld>
{
    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>The 400's errors, asserting that <paramref name="field"/> is among them.</summary>
    private static async Task<string> FieldErrorAsync(HttpResponseMessage response, string field)
    {
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
        Assert.True(errors.ContainsKey(field),
            $"expected an error for '{field}', got: {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}");
        return string.Join(" ", errors[field]);
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string json) =>
        world.Client.SendAsync(world.AsAdmin(method, path, WorkspaceAgentWorld.Json(json)));

    private async Task<HttpResponseMessage> SendAsAgentAsync(HttpMethod method, string path, string json) =>
        await world.Client.SendAsync(await world.AsAgentAsync(method, path, WorkspaceAgentWorld.Json(json)));

    // ---- NUL in text that reaches PostgreSQL ------------------------------------------------------

    [Fact]
    public async Task A_nul_in_a_tenant_name_is_a_400_naming_the_field_and_changes_nothing()
    {
        var response = await SendAsync(HttpMethod.Patch, $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}", """{"name":"a\u0000b"}""");

        Assert.Contains("NUL", await FieldErrorAsync(response, "name"));
        Assert.Equal("Acme", await world.ScalarAsync<string>("select name from tenants where id = @TenantId", new { world.TenantId }));
    }

    [Fact]
    public async Task A_nul_in_a_workspace_region_is_a_400_naming_the_field()
    {
        var response = await SendAsync(HttpMethod.Post, $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/workspaces", $$"""
            {"cloudAccountId":"{{world.AccountId}}","region":"sandbox\u0000","name":"beta","networkCidr":"10.41.0.0/16",
             "kubernetesVersion":"{{KubernetesTestVersions.Newest()}}","nodePools":[{"name":"default","instanceType":"m6i.large","minSize":1,"maxSize":3}]}
            """);

        await FieldErrorAsync(response, "region");
    }

    [Fact]
    public async Task A_nul_in_a_heartbeats_kubernetes_version_is_a_400_naming_the_field()
    {
        var response = await SendAsAgentAsync(HttpMethod.Post, ProtocolV1.Heartbeat,
            """{"agentVersion":"1.0","inventory":{"kubernetesVersion":"v1.33\u0000","nodes":[],"capacity":{"cpuCores":4,"memoryBytes":1,"pods":10},"namespaces":[]}}""");

        await FieldErrorAsync(response, "inventory.kubernetesVersion");
    }

    [Fact]
    public async Task A_nul_in_a_command_results_message_or_output_is_a_400_naming_the_field()
    {
        var path = ProtocolV1.CommandResult(world.PendingCommandId);

        var message = await SendAsAgentAsync(HttpMethod.Post, path, """{"outcome":"succeeded","message":"done\u0000"}""");
        var output = await SendAsAgentAsync(HttpMethod.Post, path, """{"outcome":"succeeded","output":{"pods":["a\u0000"]}}""");
        var outputName = await SendAsAgentAsync(HttpMethod.Post, path, """{"outcome":"succeeded","output":{"a\u0000":1}}""");

        await FieldErrorAsync(message, "message");
        await FieldErrorAsync(output, "output.pods[0]");
        await FieldErrorAsync(outputName, "output");
    }

    // ---- Nulls where an object or an element is required, numbers JSON cannot hold ----------------

    [Fact]
    public async Task A_null_node_pool_is_a_400_naming_the_element()
    {
        var response = await SendAsync(HttpMethod.Post, $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/workspaces", $$"""
            {"cloudAccountId":"{{world.AccountId}}","region":"sandbox-local-1","name":"beta","networkCidr":"10.41.0.0/16",
             "kubernetesVersion":"{{KubernetesTestVersions.Newest()}}","nodePools":[null]}
            """);

        await FieldErrorAsync(response, "nodePools[0]");
    }

    [Fact]
    public async Task A_heartbeat_without_an_inventory_is_a_400_naming_the_field()
    {
        var explicitNull = await SendAsAgentAsync(HttpMethod.Post, ProtocolV1.Heartbeat, """{"agentVersion":"1.0","inventory":null}""");
        var missing = await SendAsAgentAsync(HttpMethod.Post, ProtocolV1.Heartbeat, """{"agentVersion":"1.0"}""");

        await FieldErrorAsync(explicitNull, "inventory");
        await FieldErrorAsync(missing, "inventory");
    }

    [Fact]
    public async Task An_infinite_cpu_count_is_a_400_naming_the_field()
    {
        var response = await SendAsAgentAsync(HttpMethod.Post, ProtocolV1.Heartbeat,
            """{"agentVersion":"1.0","inventory":{"kubernetesVersion":"v1.33","nodes":[],"capacity":{"cpuCores":1e999,"memoryBytes":1,"pods":10},"namespaces":[]}}""");

        Assert.Contains("finite", await FieldErrorAsync(response, "inventory.capacity.cpuCores"));
    }

    // ---- Times out of range: a client assertion is refused as an assertion (401) ------------------

    [Theory]
    [InlineData(0L, long.MaxValue)]
    [InlineData(long.MinValue, 0L)]
    [InlineData(253402300800L, 253402300860L)] // one second past year 9999
    public async Task An_assertion_whose_times_are_out_of_range_is_refused_with_401(long iat, long exp)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new AssertionClaims(world.Agent.AgentId.ToString(), world.Agent.AgentId.ToString(), world.Agent.Registration.TokenAudience,
            Guid.NewGuid().ToString("N"), iat == 0 ? now : iat, exp == 0 ? now + 60 : exp);

        var response = await world.Agent.RequestTokenAsync(world.Agent.Sign(claims));

        var problem = await ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(ProblemTypes.InvalidAssertion, problem.GetProperty("type").GetString());
        // The same key with sane times still gets a token: the refusal was about the times.
        Assert.Equal(HttpStatusCode.OK, (await world.Agent.RequestTokenAsync(world.Agent.Assertion())).StatusCode);
    }

    // ---- Forms the binder or antiforgery refuse ---------------------------------------------------

    [Fact]
    public async Task A_sign_out_with_a_broken_multipart_body_is_a_400()
    {
        var content = new StringContent("--boundary\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunterminated", Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=boundary");

        var response = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Post, "/account/signout", content));

        await ProblemAsync(response, HttpStatusCode.BadRequest);
    }

    // ---- Everything the request binder refuses keeps its status (Development included) ------------

    public static TheoryData<string, string?, string, int> BinderRefusals => new()
    {
        { "invalid JSON", "application/json", """{"name":""", 400 },
        { "a wrong JSON type for the body", "application/json", "[1,2]", 400 },
        { "a wrong JSON type for a field", "application/json", """{"name":{"nested":true}}""", 400 },
        { "a lone surrogate", "application/json", """{"name":"a\ud800b"}""", 400 },
        { "invalid UTF-8", "application/json", "{\"name\":\"\u00ff\"}", 400 },
        { "no Content-Type", null, """{"name":"Acme"}""", 415 },
        { "a wrong Content-Type", "text/plain", """{"name":"Acme"}""", 415 },
    };

    [Theory]
    [MemberData(nameof(BinderRefusals))]
    public async Task A_body_the_binder_refuses_keeps_its_status_with_a_problem(string what, string? contentType, string body, int status)
    {
        var bytes = what == "invalid UTF-8" ? [.. "{\"name\":\"a"u8, 0xC3, 0x28, .. "\"}"u8] : Encoding.UTF8.GetBytes(body);
        var content = new ByteArrayContent(bytes);
        if (contentType is not null) content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);

        var response = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Patch, $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}", content));

        var problem = await ProblemAsync(response, (HttpStatusCode)status);
        if (status == 400) Assert.True(problem.TryGetProperty("errors", out _), $"{what}: the 400 should name the field");
    }

    [Fact]
    public async Task A_query_value_of_the_wrong_type_is_a_400_naming_the_parameter()
    {
        var response = await world.Client.SendAsync(await world.AsAgentAsync(HttpMethod.Get, ProtocolV1.Commands + "?wait=abc"));
        var wordy = await world.Client.SendAsync(await world.AsAgentAsync(HttpMethod.Get, ProtocolV1.Commands + "?wait=from%20body"));

        await FieldErrorAsync(response, "wait");
        await FieldErrorAsync(wordy, "wait");
    }

    [Fact]
    public async Task A_nul_in_a_query_value_is_a_400_before_anything_looks_it_up()
    {
        // A NUL in the path never gets this far: the server refuses the request line itself.
        var api = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Get, $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/audit/export?action=a%00"));
        var page = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Get, $"/t/{WorkspaceAgentWorld.Slug}/audit?actor=%00"));

        await FieldErrorAsync(api, "action");
        await FieldErrorAsync(page, "actor");
    }

    [Fact]
    public async Task A_route_value_that_cannot_be_stored_names_nothing_when_a_circuit_navigates_to_it()
    {
        // Blazor navigates inside the circuit without an HTTP request, so these lookups see route values unchecked.
        await using var scope = world.Portal.Services.CreateAsyncScope();
        var tenant = await scope.ServiceProvider.GetRequiredService<TenantAccess>()
            .ResolveAsync(world.Admin.ToPrincipal(), "ac\0me", "/t", CancellationToken.None);
        var workspace = await world.Get<WorkspaceStore>().FindByNameAsync(world.TenantId, "alpha\ud800", CancellationToken.None);

        Assert.Null(tenant);
        Assert.Null(workspace);
    }

    // ---- Names shown to other people --------------------------------------------------------------

    [Theory]
    [InlineData("\u202Egnp.exe", "right-to-left override")]
    [InlineData("Acme\u2066Corp", "isolate")]
    [InlineData("Ac\u200Bme", "zero-width")]
    [InlineData("Acme\tCorp", "control")]
    public async Task A_tenant_name_with_a_bidirectional_or_invisible_character_is_a_400(string name, string described)
    {
        var response = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Patch, $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}",
            JsonContent.Create(new { name })));

        Assert.Contains(described, await FieldErrorAsync(response, "name"));
    }

    [Fact]
    public async Task A_tenant_name_is_stored_in_normalization_form_c()
    {
        var decomposed = "Cafe\u0301 Acme";

        var response = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Post, "/api/v1/tenants",
            JsonContent.Create(new { name = decomposed, slug = "cafe-acme" })));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("Caf\u00e9 Acme", await world.ScalarAsync<string>("select name from tenants where slug = 'cafe-acme'"));
    }

    // ---- HEAD, and what an API 401 sets ------------------------------------------------------------

    [Theory]
    [InlineData("/api/v1/me")]
    [InlineData("/api/v1/tenants/no-such-tenant")]
    [InlineData("/healthz")]
    [InlineData("/")]
    public async Task A_head_request_is_answered_as_get_without_a_body(string path)
    {
        var get = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Get, path));
        var head = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Head, path));

        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task An_api_401_is_a_problem_and_sets_no_cookie()
    {
        var response = await world.Client.GetAsync("/api/v1/me");

        await ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.False(response.Headers.Contains("Set-Cookie"), "an API 401 must not start a sign-in: "
            + string.Join("; ", response.Headers.TryGetValues("Set-Cookie", out var c) ? c : []));
    }

    [Fact]
    public async Task A_problem_carries_the_requests_trace_id()
    {
        var response = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Get, "/api/v1/tenants/no-such-tenant"));

        var problem = await ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
    }
}

/// <summary>The binder's refusals in Production too: the status and the problem do not depend on the environment.</summary>
public sealed class ProductionBinderRefusalTests(ProductionWorkspaceAgentWorld world) : IClassFixture<ProductionWorkspaceAgentWorld>
{
    [Theory]
    [MemberData(nameof(MalformedInputTests.BinderRefusals), MemberType = typeof(MalformedInputTests))]
    public async Task A_body_the_binder_refuses_keeps_its_status_with_a_problem_in_production(string what, string? contentType, string body,
        int status)
    {
        var bytes = what == "invalid UTF-8" ? [.. "{\"name\":\"a"u8, 0xC3, 0x28, .. "\"}"u8] : System.Text.Encoding.UTF8.GetBytes(body);
        var content = new ByteArrayContent(bytes);
        if (contentType is not null) content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);

        var response = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Patch, $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}", content));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
