using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cogrion.Portal.Tests.Secrets;

/// <summary>
/// The browser module (Portal/wwwroot/js/secrets.js) in Chromium, WebCrypto and all: it pins a fingerprint
/// only when it is the identity served, refuses a key signed by another identity (or an identity that changed),
/// and what it seals the agent's own code opens. The page is a plain origin of its own (localhost, a secure
/// context), so the module is tested as served, without the rest of the Portal.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SecretsModuleBrowserTests
{
    private const string Origin = "http://localhost:5999";
    private static readonly string ModulePath = Path.Combine(RepoPaths.Root, "Portal", "wwwroot", "js", "secrets.js");

    private sealed record Keys(System.Security.Cryptography.ECDsa Identity, System.Security.Cryptography.ECDiffieHellman Encryption,
        object Offer, string Fingerprint);

    private static Keys Make(Guid tenant, Guid workspace, Guid agent, System.Security.Cryptography.ECDsa? signWith = null)
    {
        var identity = ProtocolKeys.Create();
        var encryption = Hpke.CreateKeyPair();
        var point = Hpke.SerializePublicKey(encryption);
        var statement = new EncryptionKeyStatement(tenant, workspace, agent, SealedSecrets.EncryptionKeyId(point), Base64Url.EncodeToString(point),
            DateTimeOffset.UtcNow.AddDays(7).ToUnixTimeSeconds());
        var signed = Jws.Sign(statement, ProtocolJson.Default.EncryptionKeyStatement, SealedSecrets.StatementJwsType, null, signWith ?? identity);
        var fingerprint = SealedSecrets.Fingerprint(identity);
        var offer = new
        {
            tenantId = tenant.ToString(),
            workspaceId = workspace.ToString(),
            agentId = agent.ToString(),
            identityPublicKey = ProtocolKeys.ExportPublicKey(identity),
            fingerprint,
            statement = signed,
        };
        return new Keys(identity, encryption, offer, fingerprint);
    }

    private sealed record Answer(bool Ok, string Message, string? Sealed);

    private static async Task<IPage> OpenAsync()
    {
        var browser = await BrowserHost.GetAsync();
        var page = await browser.NewPageAsync();
        await page.RouteAsync(Origin + "/**", route => route.FulfillAsync(new()
        {
            ContentType = "text/html",
            Body = """<!DOCTYPE html><html><body><label for="value">Value</label><input id="value" type="password"></body></html>""",
        }));
        await page.GotoAsync(Origin + "/secrets");
        await page.AddScriptTagAsync(new() { Path = ModulePath });
        return page;
    }

    private static async Task<Answer> CallAsync(IPage page, string function, params object[] args)
    {
        var json = await page.EvaluateAsync<string>(
            $"async (args) => JSON.stringify(await window.cogrionSecrets.{function}(...args))", args);
        return JsonSerializer.Deserialize<Answer>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    [Fact]
    public async Task The_module_pins_the_identity_seals_what_the_agent_opens_and_refuses_a_substituted_key()
    {
        var (tenant, workspace, agent, user) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid().ToString());
        var real = Make(tenant, workspace, agent);
        var page = await OpenAsync();

        var unpinned = await CallAsync(page, "check", user, real.Offer);
        Assert.False(unpinned.Ok);
        Assert.Contains("No agent identity is confirmed", unpinned.Message, StringComparison.Ordinal);

        var other = Make(tenant, workspace, agent);
        Assert.False((await CallAsync(page, "confirm", user, real.Offer, other.Fingerprint)).Ok);
        // As a person types it: lower case, colons; it is compared digit by digit.
        Assert.True((await CallAsync(page, "confirm", user, real.Offer, real.Fingerprint.ToLowerInvariant().Replace(' ', ':'))).Ok);
        Assert.True((await CallAsync(page, "check", user, real.Offer)).Ok);

        var canary = "canary-" + Guid.NewGuid().ToString("N");
        await page.Locator("#value").FillAsync(canary);
        var request = new { @namespace = "airflow", name = "db-password", version = 3 };
        var answer = await CallAsync(page, "seal", user, real.Offer, request, new Dictionary<string, string> { ["password"] = "value" });
        Assert.True(answer.Ok, answer.Message);
        Assert.Equal("", await page.Locator("#value").InputValueAsync());
        Assert.DoesNotContain(canary, answer.Sealed!, StringComparison.Ordinal);

        // What the browser sealed, the agent's own code opens, and only for the fields bound to it.
        var sealedSecret = JsonSerializer.Deserialize(answer.Sealed!, ProtocolJson.Default.SealedSecret)!;
        Assert.Equal((tenant, workspace, "airflow", "db-password", 3L), (sealedSecret.TenantId, sealedSecret.WorkspaceId, sealedSecret.Namespace,
            sealedSecret.Name, sealedSecret.Version));
        Assert.InRange(sealedSecret.NotAfter, DateTimeOffset.UtcNow.AddHours(23).ToUnixTimeSeconds(),
            DateTimeOffset.UtcNow.AddHours(24).ToUnixTimeSeconds());
        Assert.Equal(canary, Encoding.UTF8.GetString(SealedSecrets.Open(sealedSecret, real.Encryption)["password"]));
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => SealedSecrets.Open(sealedSecret with { Version = 4 },
            real.Encryption));

        // The Portal serves a key signed by another identity, with that identity: the fingerprint gives it away.
        await page.Locator("#value").FillAsync(canary);
        var substituted = await CallAsync(page, "seal", user, other.Offer, request, new Dictionary<string, string> { ["password"] = "value" });
        Assert.False(substituted.Ok);
        Assert.Contains("agent identity changed", substituted.Message, StringComparison.Ordinal);
        Assert.Null(substituted.Sealed);
        // Or keeps the identity and signs its own key: the signature does.
        var forged = Make(tenant, workspace, agent, signWith: other.Identity) with { };
        var forgedOffer = new
        {
            tenantId = tenant.ToString(),
            workspaceId = workspace.ToString(),
            agentId = agent.ToString(),
            identityPublicKey = ProtocolKeys.ExportPublicKey(real.Identity),
            fingerprint = real.Fingerprint,
            statement = JsonDocument.Parse(JsonSerializer.Serialize(forged.Offer)).RootElement.GetProperty("statement").GetString(),
        };
        var refused = await CallAsync(page, "seal", user, forgedOffer, request, new Dictionary<string, string> { ["password"] = "value" });
        Assert.False(refused.Ok);
        Assert.Contains("not signed by the confirmed agent identity", refused.Message, StringComparison.Ordinal);
        Assert.Equal(canary, await page.Locator("#value").InputValueAsync());
        await page.CloseAsync();
    }
}
