using System.Security.Cryptography;
using System.Text;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// The Secrets page in Chromium against the real Portal process, with the real agent binary in a simulated
/// cluster: a tenant admin confirms the fingerprint read in the cluster, adds a secret, sees it applied, and
/// the agent's Secret holds the value while the database holds it nowhere. Then the Portal serves a key signed
/// by another identity, and the browser refuses to encrypt, in red. Its own stack: it registers an agent.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SecretsBrowserTests : IAsyncLifetime
{
    private readonly BrowserAgentWorld world = new() { AgentReadyWhen = BrowserAgentWorld.KeyPublished };

    public Task InitializeAsync() => world.InitializeAsync();

    public Task DisposeAsync() => world.DisposeAsync();

    [Fact]
    public async Task An_admin_confirms_the_fingerprint_adds_a_secret_sees_it_applied_and_a_substituted_key_is_refused()
    {
        var (page, agent) = (world.Page, world.Agent);
        await world.EnsureAppNamespaceAsync("airflow");
        var fingerprint = await world.AgentFingerprintAsync();

        var response = await page.GotoAsync("/t/vault/workspaces/lake/secrets");
        Assert.Contains("script-src 'self'", (await response!.AllHeadersAsync())["content-security-policy"], StringComparison.Ordinal);
        await PortalStack.WaitUntilInteractiveAsync(page);
        var keyCheck = page.GetByLabel("Key check");
        await Assertions.Expect(keyCheck).ToContainTextAsync("No agent identity is confirmed");

        // A wrong fingerprint is not pinned; the one read in the cluster is.
        await page.GetByLabel("Fingerprint you read in the cluster").FillAsync("0000 1111 2222 3333 4444 5555 6666 7777");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm fingerprint" }).ClickAsync();
        await Assertions.Expect(keyCheck).ToContainTextAsync("not the fingerprint of the agent identity");
        await page.GetByLabel("Fingerprint you read in the cluster").FillAsync(fingerprint);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm fingerprint" }).ClickAsync();
        await Assertions.Expect(keyCheck).ToContainTextAsync("signed by the confirmed agent identity " + fingerprint);

        var canary = "canary-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await page.GetByLabel("Namespace").FillAsync("airflow");
        await page.GetByLabel("Secret name").FillAsync("db-password");
        await page.GetByLabel("Key", new() { Exact = true }).FillAsync("password");
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync(canary);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row, new() { Name = "Secret airflow/db-password" });
        await Assertions.Expect(row.GetByLabel("Secret status")).ToHaveTextAsync("applied", new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByLabel("Value", new() { Exact = true })).ToHaveValueAsync("");

        var secret = await agent.Admin.GetAsync(new ObjectReference("v1", "Secret", "db-password", "airflow"), default);
        Assert.Equal(canary, Encoding.UTF8.GetString(Convert.FromBase64String(secret!["data"]!["password"]!.GetValue<string>())));
        Assert.Equal(0, await world.OccurrencesInDatabaseAsync(canary));

        // Several keys of one Secret: a rotation gives every key it keeps, plus a new one; version 2 holds both.
        await row.GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Key", new() { Exact = true })).ToHaveValueAsync("password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add a key" }).ClickAsync();
        await page.GetByLabel("Key 2", new() { Exact = true }).FillAsync("username");
        var second = "canary-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync(canary + "-2");
        await page.GetByLabel("Value 2", new() { Exact = true }).FillAsync(second);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("password, username");
        await Assertions.Expect(row.GetByLabel("Secret status")).ToHaveTextAsync("applied", new() { Timeout = 60_000 });
        secret = await agent.Admin.GetAsync(new ObjectReference("v1", "Secret", "db-password", "airflow"), default);
        Assert.Equal(canary + "-2", Encoding.UTF8.GetString(Convert.FromBase64String(secret!["data"]!["password"]!.GetValue<string>())));
        Assert.Equal(second, Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["username"]!.GetValue<string>())));
        Assert.Equal(0, await world.OccurrencesInDatabaseAsync(second));

        // The Portal's database now serves a statement signed by another identity: the browser refuses, in red, and seals nothing.
        using var impostor = ProtocolKeys.Create();
        await using (var connection = new NpgsqlConnection(world.ConnectionString))
        {
            var statement = await connection.ExecuteScalarAsync<string>(
                "select statement from agent_encryption_keys order by not_after desc limit 1");
            Jws.TryReadUnverified(statement, ProtocolJson.Default.EncryptionKeyStatement, out _, out var claims);
            var forged = Jws.Sign(claims!, ProtocolJson.Default.EncryptionKeyStatement, SealedSecrets.StatementJwsType, null, impostor);
            await connection.ExecuteAsync("update agent_encryption_keys set statement = @forged", new { forged });
        }
        await page.ReloadAsync();
        await PortalStack.WaitUntilInteractiveAsync(page);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "not signed by the confirmed agent identity" }).First)
            .ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Row, new() { Name = "Secret airflow/db-password" }).GetByRole(AriaRole.Button,
            new() { Name = "Rotate" }).ClickAsync();
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("should-never-leave");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Save error")).ToContainTextAsync("not signed by the confirmed agent identity");
        await using (var connection = new NpgsqlConnection(world.ConnectionString))
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from secret_deliveries"));
        var unchanged = await agent.Admin.GetAsync(new ObjectReference("v1", "Secret", "db-password", "airflow"), default);
        Assert.Equal("2", unchanged!["metadata"]!["annotations"]![SealedSecrets.VersionAnnotation]!.GetValue<string>());
    }
}
