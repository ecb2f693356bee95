using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Secrets;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// An app against the workspace's own database, end to end in the sandbox: a workspace created with a database reports
/// its endpoint in its outputs; Airflow installed with the workspace database gets its chart pointed there (the
/// chart's option names, its bundled PostgreSQL off) and the role's password, sealed to the agent's key as the browser
/// seals it, only through valuesFrom from the field's Secret: never in a command, the values or the release. Without the
/// password the install is refused with the database field's error; in a workspace without a database, the choice is.
/// </summary>
public sealed class AppWorkspaceDatabaseTests
{
    [Fact]
    public async Task Airflow_uses_the_workspace_database_with_the_password_only_through_values_from()
    {
        await using var world = await SandboxInstallWorld.StartAsync(SandboxInstallWorld.RepositoryModules);
        var created = await world.Portal.Get<WorkspaceCommands>().CreateAsync(world.TenantId,
            WorkspaceWorld.Valid(world.AccountId, "lake", "10.40.0.0/16", approval: ApprovalMode.Automatic)
                with
            { Database = new DatabaseInput("postgres", "small") }, SandboxInstallWorld.Admin, CancellationToken.None);
        Assert.True(created.Succeeded);
        var workspace = await world.WaitForStatusAsync(created.Value!.Id, WorkspaceStatus.Ready);
        var database = AppDatabase.Of(workspace);
        Assert.NotNull(database);
        var apps = world.Portal.Get<WorkspaceApps>();
        var airflow = world.Portal.Get<AppCatalog>().Find("airflow")!;

        // The password is required with the workspace database: refused on the database field, nothing installed.
        var refused = await apps.InstallAsync(world.TenantId, workspace, "airflow", null, null, null, AppDatabaseChoice.Workspace,
            SandboxInstallWorld.Admin, CancellationToken.None);
        Assert.Contains("CREATE ROLE", string.Join(" ", refused.Errors.ToDictionary()["database"]), StringComparison.Ordinal);
        Assert.Null(await apps.FindAsync(world.TenantId, workspace.Id, "airflow", CancellationToken.None));

        var canary = "db-password-" + Guid.NewGuid().ToString("N");
        var password = await SealAsync(world, workspace.Id, airflow, "data.metadataConnection.pass", canary);
        var installed = await apps.InstallAsync(world.TenantId, workspace, "airflow", null, null, [password], AppDatabaseChoice.Workspace,
            SandboxInstallWorld.Admin, CancellationToken.None);
        Assert.True(installed.Succeeded, string.Join("; ", installed.Errors.ToDictionary().SelectMany(e => e.Value)));

        var release = await Eventually.ValueAsync(() => Task.FromResult(world.ClusterObjects(workspace.Id)
                .FirstOrDefault(o => o["kind"]?.GetValue<string>() == "HelmRelease")),
            r => r is not null, "Airflow's HelmRelease", TimeSpan.FromMinutes(3));
        var values = release!["spec"]!["values"]!;
        Assert.False(values["postgresql"]!["enabled"]!.GetValue<bool>());
        var connection = values["data"]!["metadataConnection"]!;
        Assert.Equal(database!.Host, connection["host"]!.GetValue<string>());
        Assert.Equal(database.Port, connection["port"]!.GetValue<int>());
        Assert.Equal("airflow", connection["user"]!.GetValue<string>());
        Assert.Null(connection["pass"]);
        var from = Assert.Single(release["spec"]!["valuesFrom"]!.AsArray(),
            f => f!["targetPath"]!.GetValue<string>() == "data.metadataConnection.pass")!;
        Assert.Equal(CatalogApp.SecretNameFor("airflow", "data.metadataConnection.pass"), from["name"]!.GetValue<string>());
        Assert.DoesNotContain(canary, release.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(0, await world.CountAsync($"select count(*) from agent_commands where strpos(payload::text, '{canary}') > 0"));
        Assert.Equal(0, await world.CountAsync($"select count(*) from workspace_apps where strpos(\"values\"::text, '{canary}') > 0"));
        // The agent wrote the field's Secret with it, where the release reads it.
        var secret = await Eventually.ValueAsync(() => Task.FromResult(world.ClusterObjects(workspace.Id).FirstOrDefault(o =>
                o["kind"]?.GetValue<string>() == "Secret" && o["metadata"]?["name"]?.GetValue<string>() == from["name"]!.GetValue<string>())),
            s => s is not null, "the password's Secret", TimeSpan.FromMinutes(3));
        Assert.Equal(canary, Encoding.UTF8.GetString(Convert.FromBase64String(secret!["data"]![CatalogApp.SecretKey]!.GetValue<string>())));
    }

    /// <summary>Seals a value for an app's secret field as the browser module does: to the agent's published key, checked against its
    /// fingerprint.</summary>
    private static async Task<SealedSecret> SealAsync(SandboxInstallWorld world, Guid workspaceId, CatalogApp app, string path, string value)
    {
        var offer = (await Eventually.ValueAsync(() => world.Portal.Get<EncryptionKeyDirectory>().OfferAsync(world.TenantId, workspaceId, default),
            o => o is not null, "the agent to publish its encryption key", TimeSpan.FromMinutes(3)))!;
        var fingerprint = SealedSecrets.Fingerprint(Convert.FromBase64String(offer.IdentityPublicKey));
        var statement = SealedSecrets.VerifyStatement(fingerprint, offer.IdentityPublicKey, offer.Statement, world.TenantId, workspaceId,
            DateTimeOffset.UtcNow);
        var header = new SealedSecret(world.TenantId, workspaceId, app.Id, CatalogApp.SecretNameFor(app.Id, path), 1, statement.KeyId,
            Guid.NewGuid(), DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), []);
        return SealedSecrets.Seal(header, new Dictionary<string, byte[]> { [CatalogApp.SecretKey] = Encoding.UTF8.GetBytes(value) },
            Base64Url.DecodeFromChars(statement.PublicKey));
    }
}
