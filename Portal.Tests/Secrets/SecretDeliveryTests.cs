using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Secrets;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Secrets;

/// <summary>
/// Sealed secrets end to end with the real Portal, the real agent binary in a simulated cluster, and real
/// PostgreSQL: the agent publishes a signed encryption key and shows its fingerprint in the cluster; a secret
/// sealed to it (by the same code as the agent's `seal`) is relayed, applied as a Kubernetes Secret, and its
/// ciphertext forgotten; the database never holds the value; replays, rollbacks, expired, tampered and
/// foreign ciphertexts are refused by the agent, reported, and nothing is written.
/// </summary>
public sealed class SecretDeliveryTests
{
    private const string Namespace = "airflow";

    [Fact]
    public async Task A_sealed_secret_reaches_the_cluster_the_database_never_holds_its_value_and_every_replay_is_refused()
    {
        await using var scenario = await AgentScenario.StartAsync();
        var offer = await OfferAsync(scenario);

        // The fingerprint, where only the tenant reads it: the agent's log and its ConfigMap.
        var identityKey = Convert.FromBase64String(offer.IdentityPublicKey);
        var fingerprint = SealedSecrets.Fingerprint(identityKey);
        Assert.Equal(fingerprint, offer.Fingerprint);
        await scenario.Agent.WaitForOutputAsync(fingerprint);
        var configMap = await scenario.Agent.Admin.GetAsync(new ObjectReference("v1", "ConfigMap", AgentInstall.IdentityConfigMap,
            AgentInstall.Namespace), default);
        Assert.Equal(fingerprint, configMap?["data"]?["fingerprint"]?.GetValue<string>());

        await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.EnsureNamespace, AgentScenario.Namespace(Namespace)));
        var canary = "canary-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var relay = scenario.Portal.Get<SecretRelay>();
        var first = Seal(scenario, offer, fingerprint, "db-password", 1, canary);
        var submitted = await relay.SubmitAsync(scenario.TenantId, scenario.WorkspaceId, first, AgentScenario.Admin, default);
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors.ToDictionary().SelectMany(e => e.Value)));
        var applied = await StatusAsync(scenario, submitted.Value!.Id, SecretStatus.Applied);
        Assert.Equal(1, applied.Version);

        var secret = await scenario.Agent.Admin.GetAsync(new ObjectReference("v1", "Secret", "db-password", Namespace), default);
        Assert.Equal(canary, Encoding.UTF8.GetString(Convert.FromBase64String(secret!["data"]!["password"]!.GetValue<string>())));
        Assert.Equal("1", secret["metadata"]!["annotations"]![SealedSecrets.VersionAnnotation]!.GetValue<string>());
        Assert.Equal("true", secret["metadata"]!["labels"]![SealedSecrets.ManagedLabel]!.GetValue<string>());
        Assert.Equal(0, await CountAsync(scenario, "select count(*) from secret_deliveries"));

        // A compromised or buggy Portal relays old or altered ciphertext: the agent refuses each, says why, writes nothing.
        var secretId = submitted.Value.Id;
        await RefusedAsync(scenario, secretId, first, "already applied once");
        await RefusedAsync(scenario, secretId, Seal(scenario, offer, fingerprint, "db-password", 1, "older"), "not greater");
        await RefusedAsync(scenario, secretId, Seal(scenario, offer, fingerprint, "db-password", 5, "late",
            notAfter: DateTimeOffset.UtcNow.AddMinutes(-1)),
            "expired");
        var tampered = Seal(scenario, offer, fingerprint, "db-password", 6, "tampered");
        var bytes = Base64Url.DecodeFromChars(tampered.Values[0].Ciphertext);
        bytes[0] ^= 1;
        await RefusedAsync(scenario, secretId, tampered with { Values = [tampered.Values[0] with { Ciphertext = Base64Url.EncodeToString(bytes) }] },
            "does not open");
        await RefusedAsync(scenario, secretId, Seal(scenario, offer, fingerprint, "db-password", 7,
            "elsewhere") with
        { WorkspaceId = Guid.NewGuid() },
            "another workspace");
        secret = await scenario.Agent.Admin.GetAsync(new ObjectReference("v1", "Secret", "db-password", Namespace), default);
        Assert.Equal(canary, Encoding.UTF8.GetString(Convert.FromBase64String(secret!["data"]!["password"]!.GetValue<string>())));

        // The Portal itself refuses a rollback before relaying anything.
        var rollback = await relay.SubmitAsync(scenario.TenantId, scenario.WorkspaceId, Seal(scenario, offer, fingerprint, "db-password", 1, "x"),
            AgentScenario.Admin, default);
        Assert.True(rollback.Errors.Has("version"));

        // Rotation: version 2 replaces the value.
        var rotated = "rotated-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        Assert.True((await relay.SubmitAsync(scenario.TenantId, scenario.WorkspaceId, Seal(scenario, offer, fingerprint, "db-password", 2, rotated),
            AgentScenario.Admin, default)).Succeeded);
        await StatusAsync(scenario, secretId, SecretStatus.Applied, version: 2);
        secret = await scenario.Agent.Admin.GetAsync(new ObjectReference("v1", "Secret", "db-password", Namespace), default);
        Assert.Equal(rotated, Encoding.UTF8.GetString(Convert.FromBase64String(secret!["data"]!["password"]!.GetValue<string>())));

        // Another tenant guessing the id finds nothing, and cannot delete it.
        Assert.Null(await relay.GetAsync(Guid.NewGuid(), scenario.WorkspaceId, secretId, default));
        Assert.True((await relay.DeleteAsync(Guid.NewGuid(), scenario.WorkspaceId, secretId, AgentScenario.Admin, default)).IsNotFound);

        // The canary, in every table, the audit trail and the command payloads included, and in the Portal's log: 0 times.
        foreach (var value in new[] { canary, rotated })
        {
            Assert.Equal(0, await OccurrencesInDatabaseAsync(scenario, value));
            Assert.DoesNotContain(value, scenario.Portal.Log, StringComparison.Ordinal);
            Assert.DoesNotContain(value, scenario.Agent.Output, StringComparison.Ordinal);
        }
        Assert.Equal(0, await CountAsync(scenario, "select count(*) from secret_deliveries"));

        // Deleting in the Portal deletes in the cluster, then the metadata.
        Assert.True((await relay.DeleteAsync(scenario.TenantId, scenario.WorkspaceId, secretId, AgentScenario.Admin, default)).Succeeded);
        await Eventually.ValueAsync(() => relay.GetAsync(scenario.TenantId, scenario.WorkspaceId, secretId, default), s => s is null,
            "the secret to be deleted");
        Assert.Null(await scenario.Agent.Admin.GetAsync(new ObjectReference("v1", "Secret", "db-password", Namespace), default));
    }

    [Fact]
    public async Task A_secret_sealed_to_a_key_the_agent_rotates_while_it_is_in_flight_is_still_delivered()
    {
        await using var scenario = await AgentScenario.StartAsync();
        var first = await OfferAsync(scenario);
        var fingerprint = SealedSecrets.Fingerprint(Convert.FromBase64String(first.IdentityPublicKey));
        await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.EnsureNamespace, AgentScenario.Namespace(Namespace)));
        var value = "in-flight-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var sealedToOld = Seal(scenario, first, fingerprint, "in-flight", 1, value);

        // The agent stops; meanwhile its key comes due (7 days in the state it keeps), and the secret is relayed.
        var deployment = new ObjectReference("apps/v1", "Deployment", AgentInstall.Deployment, AgentInstall.Namespace);
        await scenario.Agent.Admin.JsonPatchAsync(deployment, [new JsonObject { ["op"] = "replace", ["path"] = "/spec/replicas", ["value"] = 0 }],
            default);
        await Eventually.ValueAsync(() => Task.FromResult(scenario.Agent.Pods().Count), n => n == 0, "the agent's pod to stop");
        var stateSecret = (await scenario.Agent.Admin.GetAsync(new ObjectReference("v1", "Secret", AgentInstall.StateSecret, AgentInstall.Namespace),
            default))!;
        var state = JsonNode.Parse(Convert.FromBase64String(stateSecret["data"]![AgentInstall.StateSecretKey]!.GetValue<string>()))!.AsObject();
        foreach (var key in state["encryptionKeys"]!.AsArray()) key!["notAfter"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O");
        stateSecret["data"]![AgentInstall.StateSecretKey] = Convert.ToBase64String(Encoding.UTF8.GetBytes(state.ToJsonString()));
        stateSecret["metadata"]!.AsObject().Remove("managedFields");
        await scenario.Agent.Admin.ApplyAsync(stateSecret, default);
        var submitted = await scenario.Portal.Get<SecretRelay>()
            .SubmitAsync(scenario.TenantId, scenario.WorkspaceId, sealedToOld, AgentScenario.Admin,
            default);
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors.ToDictionary().SelectMany(e => e.Value)));

        // Back: it rotates first (a new key published), and the secret sealed to the old key, kept 48 h, still opens.
        await scenario.Agent.Admin.JsonPatchAsync(deployment, [new JsonObject { ["op"] = "replace", ["path"] = "/spec/replicas", ["value"] = 1 }],
            default);
        await StatusAsync(scenario, submitted.Value!.Id, SecretStatus.Applied);
        var rotated = await Eventually.ValueAsync(() => OfferAsync(scenario), o => o.Statement != first.Statement, "the rotated key's statement");
        Assert.NotEqual(sealedToOld.EncryptionKeyId,
            SealedSecrets.VerifyStatement(fingerprint, rotated.IdentityPublicKey, rotated.Statement, scenario.TenantId, scenario.WorkspaceId,
                DateTimeOffset.UtcNow).KeyId);
        var secret = await scenario.Agent.Admin.GetAsync(new ObjectReference("v1", "Secret", "in-flight", Namespace), default);
        Assert.Equal(value, Encoding.UTF8.GetString(Convert.FromBase64String(secret!["data"]!["password"]!.GetValue<string>())));
    }

    private static async Task<EncryptionKeyOffer> OfferAsync(AgentScenario scenario) =>
        (await Eventually.ValueAsync(() => scenario.Portal.Get<EncryptionKeyDirectory>().OfferAsync(scenario.TenantId, scenario.WorkspaceId, default),
            o => o is not null, "the agent to publish its encryption key"))!;

    /// <summary>Seals as `seal` does: checks the statement against the pinned fingerprint first.</summary>
    private static SealedSecret Seal(AgentScenario scenario, EncryptionKeyOffer offer, string pinned, string name, long version, string value,
        DateTimeOffset? notAfter = null)
    {
        var statement = SealedSecrets.VerifyStatement(pinned, offer.IdentityPublicKey, offer.Statement, scenario.TenantId, scenario.WorkspaceId,
            DateTimeOffset.UtcNow);
        var header = new SealedSecret(scenario.TenantId, scenario.WorkspaceId, Namespace, name, version, statement.KeyId, Guid.NewGuid(),
            (notAfter ?? DateTimeOffset.UtcNow.AddHours(1)).ToUnixTimeSeconds(), []);
        return SealedSecrets.Seal(header, new Dictionary<string, byte[]> { ["password"] = Encoding.UTF8.GetBytes(value) },
            Base64Url.DecodeFromChars(statement.PublicKey));
    }

    /// <summary>Relays a sealed secret as a compromised Portal could: straight into the delivery table, bypassing every Portal check.</summary>
    private static async Task RefusedAsync(AgentScenario scenario, Guid secretId, SealedSecret sealedSecret, string reason)
    {
        var agentId = scenario.AgentId;
        var deliveryId = Guid.NewGuid();
        await using (var connection = new NpgsqlConnection(scenario.ConnectionString))
        {
            await connection.ExecuteAsync("""
                insert into secret_deliveries (id, secret_id, agent_id, tenant_id, request_id, sealed, not_after, created_at)
                values (@deliveryId, @secretId, @agentId, @TenantId, @requestId, @sealed::jsonb, now() + interval '1 hour', now())
                """, new
            {
                deliveryId,
                secretId,
                agentId,
                scenario.TenantId,
                requestId = Guid.NewGuid(),
                @sealed = JsonSerializer.Serialize(sealedSecret, ProtocolJson.Default.SealedSecret)
            });
        }
        var payload = JsonSerializer.SerializeToNode(new ApplySecretPayload(deliveryId, sealedSecret.Namespace, sealedSecret.Name,
            sealedSecret.Version),
            ProtocolJson.Default.ApplySecretPayload)!.AsObject();
        var command = await scenario.EnqueueAsync(CommandTypes.ApplySecret, payload);
        var result = await scenario.CompletedAsync(command);
        Assert.Equal(CommandOutcomes.Rejected, result.Status);
        Assert.Contains(reason, result.ResultMessage, StringComparison.Ordinal);
        Assert.Contains("Nothing was written", result.ResultMessage, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync(scenario, "select count(*) from secret_deliveries"));
    }

    private static Task<WorkspaceSecret> StatusAsync(AgentScenario scenario, Guid secretId, SecretStatus status, long version = 1) =>
        Eventually.ValueAsync(async () => (await scenario.Portal.Get<SecretRelay>().GetAsync(scenario.TenantId, scenario.WorkspaceId, secretId,
            default))!,
            s => s.Version == version && s.Status != SecretStatus.Pending, $"the agent to report version {version}")
            .ContinueWith(t => { Assert.Equal(status, t.Result.Status); return t.Result; }, TaskScheduler.Default);

    private static async Task<long> CountAsync(AgentScenario scenario, string sql)
    {
        await using var connection = new NpgsqlConnection(scenario.ConnectionString);
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    /// <summary>Every row of every table of the Portal's schema, as text, searched for the value (and its base64).</summary>
    private static async Task<int> OccurrencesInDatabaseAsync(AgentScenario scenario, string value)
    {
        await using var connection = new NpgsqlConnection(scenario.ConnectionString);
        var tables = await connection.QueryAsync<string>(
            """
            select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables
            where table_schema = 'public' and table_type = 'BASE TABLE'
            """);
        var needles = new[] { value, Convert.ToBase64String(Encoding.UTF8.GetBytes(value)) };
        var found = 0;
        foreach (var table in tables)
            foreach (var needle in needles)
                found += await connection.ExecuteScalarAsync<int>($"select count(*) from {table} t where strpos(t::text, @needle) > 0",
                    new { needle });
        return found;
    }
}
