using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// The install API's database choice is validated like the rest of the request: 400 problem details on the field, nothing installed.
/// </summary>
public sealed class AppDatabaseApiTests(WorkspaceAgentWorld world) : IClassFixture<WorkspaceAgentWorld>
{
    private const string Apps = $"/api/v1/tenants/{WorkspaceAgentWorld.Slug}/workspaces/{WorkspaceAgentWorld.WorkspaceName}/apps";

    [Theory]
    [InlineData("""{ "app": "airflow", "database": "workspace" }""", "no database of its own")]
    [InlineData("""{ "app": "airflow", "database": "elsewhere" }""", "'workspace' or 'bundled'")]
    [InlineData("""{ "app": "airflow", "database": "1" }""", "'workspace' or 'bundled'")]
    [InlineData("""{ "app": "trino", "database": "workspace" }""", "needs no database")]
    public async Task A_database_choice_that_cannot_be_met_is_a_400_on_the_database_field(string body, string expected)
    {
        using var response = await world.Client.SendAsync(world.AsAdmin(HttpMethod.Post, Apps, WorkspaceAgentWorld.Json(body)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains(expected, problem["errors"]!["database"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await world.ScalarAsync<long>("select count(*) from workspace_apps"));
    }
}
