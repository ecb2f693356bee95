using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Cogrion.Agent.Identity;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Secrets;

/// <summary>
/// The agent's encryption keys for sealed secrets (docs/secrets.md). Made in the cluster and kept in the
/// state Secret beside the identity key; a new one every <see cref="SealedSecrets.KeyLifetime"/>, the old
/// private half kept <see cref="SealedSecrets.KeyGrace"/> longer so a secret sealed just before a rotation
/// still opens. The current key is published with a statement signed by the identity key, and the
/// identity fingerprint is shown in the agent's log and its ConfigMap, where only the tenant reads it.
/// Runs on the command loop, as every other writer of the state does, so saves never interleave.
/// </summary>
public sealed class EncryptionKeyRing(
    AgentSession session,
    IAgentStateStore store,
    IPortalClient portal,
    IKubernetesClient kubernetes,
    AgentPod pod,
    TimeProvider time,
    ILogger<EncryptionKeyRing> logger)
{
    private string? publishedStatementOf;
    private string? shownFingerprint;

    /// <summary>Rotates when due, forgets keys past their grace, and (re)publishes the statement and fingerprint when they changed.</summary>
    public async Task EnsureCurrentAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var state = session.State;
        var kept = (state.EncryptionKeys ?? []).Where(k => k.NotAfter + SealedSecrets.KeyGrace > now).ToList();
        var current = kept.Where(k => k.NotAfter > now).MaxBy(k => k.CreatedAt);
        if (current is null)
        {
            using var key = Hpke.CreateKeyPair();
            current = new EncryptionKeyState(SealedSecrets.EncryptionKeyId(Hpke.SerializePublicKey(key)),
                Convert.ToBase64String(key.ExportPkcs8PrivateKey()), now, now + SealedSecrets.KeyLifetime);
            kept.Add(current);
            logger.LogInformation("Made encryption key {KeyId}, offered until {NotAfter:u}", current.KeyId, current.NotAfter);
        }
        if (kept.Count != (state.EncryptionKeys?.Count ?? 0) || !kept.SequenceEqual(state.EncryptionKeys ?? []))
        {
            var next = session.State with { EncryptionKeys = kept };
            // Saved before it is published: a key the Portal offers must be one the agent can still open with after a restart.
            await store.SaveAsync(next, cancellationToken);
            session.Use(next);
        }

        var fingerprint = session.Fingerprint;
        if (shownFingerprint != fingerprint)
        {
            await ShowFingerprintAsync(fingerprint, cancellationToken);
            shownFingerprint = fingerprint;
        }
        // The statement is signed by the identity key: a rotated identity re-signs it.
        var statementOf = current.KeyId + "/" + fingerprint;
        if (publishedStatementOf != statementOf)
        {
            await portal.PublishEncryptionKeyAsync(new EncryptionKeyPublication(Statement(current)), cancellationToken);
            publishedStatementOf = statementOf;
            logger.LogInformation("Published encryption key {KeyId}, signed by identity {Fingerprint}", current.KeyId, fingerprint);
        }
    }

    /// <summary>The private half of <paramref name="keyId"/>, while it is current or within its grace; null otherwise.</summary>
    public ECDiffieHellman? Find(string keyId)
    {
        var now = time.GetUtcNow();
        var key = session.State.EncryptionKeys?.FirstOrDefault(k => k.KeyId == keyId && k.NotAfter + SealedSecrets.KeyGrace > now);
        if (key is null) return null;
        var pair = ECDiffieHellman.Create();
        pair.ImportPkcs8PrivateKey(Convert.FromBase64String(key.PrivateKey), out _);
        return pair;
    }

    private string Statement(EncryptionKeyState key)
    {
        using var pair = ECDiffieHellman.Create();
        pair.ImportPkcs8PrivateKey(Convert.FromBase64String(key.PrivateKey), out _);
        var state = session.State;
        return session.SignStatement(new EncryptionKeyStatement(state.TenantId, state.WorkspaceId, state.AgentId, key.KeyId,
            Base64Url.EncodeToString(Hpke.SerializePublicKey(pair)), key.NotAfter.ToUnixTimeSeconds()));
    }

    private async Task ShowFingerprintAsync(string fingerprint, CancellationToken cancellationToken)
    {
        var state = session.State;
        logger.LogInformation(
            "Identity fingerprint of agent {AgentId}: {Fingerprint}. Compare it with the one the Portal asks a tenant admin to confirm " +
            "(also in ConfigMap {Namespace}/{ConfigMap})", state.AgentId, fingerprint, pod.Namespace, AgentInstall.IdentityConfigMap);
        await kubernetes.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = AgentInstall.IdentityConfigMap, ["namespace"] = pod.Namespace },
            ["data"] = new JsonObject
            {
                ["fingerprint"] = fingerprint,
                ["agentId"] = state.AgentId.ToString(),
                ["tenantId"] = state.TenantId.ToString(),
                ["workspaceId"] = state.WorkspaceId.ToString(),
            },
        }, cancellationToken);
    }
}
