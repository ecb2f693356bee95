using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Commands;
using Cogrion.Agent.Identity;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Secrets;

/// <summary>
/// secret.apply: fetches the sealed secret the command names, checks it is for this workspace, not
/// expired, not a replay (a request id already applied) and not a rollback (a version not greater than
/// the one in the cluster), opens it with the agent's encryption key, and writes the Kubernetes Secret.
/// A refusal is reported as <see cref="CommandOutcomes.Rejected"/> with its reason, and nothing is written.
/// </summary>
public sealed class ApplySecretExecutor(
    IPortalClient portal,
    EncryptionKeyRing keys,
    NamespaceRules rules,
    IKubernetesClient kubernetes,
    AgentSession session,
    IAgentStateStore store,
    TimeProvider time) : ICommandExecutor
{
    public string Type => CommandTypes.ApplySecret;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.ApplySecretPayload)
            ?? throw new InvalidPayloadException("deliveryId, namespace, name and version are required.");
        var sealedSecret = await portal.GetSecretDeliveryAsync(payload.DeliveryId, cancellationToken);
        if (sealedSecret is null)
            return CommandOutcome.Failed($"The Portal no longer holds delivery {payload.DeliveryId} (acknowledged or expired).");
        var state = session.State;
        var now = time.GetUtcNow().ToUnixTimeSeconds();

        if (sealedSecret.TenantId != state.TenantId || sealedSecret.WorkspaceId != state.WorkspaceId)
            return Refuse("it was sealed for another workspace");
        if (sealedSecret.Namespace != payload.Namespace || sealedSecret.Name != payload.Name || sealedSecret.Version != payload.Version)
            return Refuse("the command and the sealed secret name different secrets or versions");
        if (sealedSecret.NotAfter <= now)
            return Refuse($"it expired at {DateTimeOffset.FromUnixTimeSeconds(sealedSecret.NotAfter):u}");
        if (!SealedSecrets.SecretName().IsMatch(sealedSecret.Name))
            throw new InvalidPayloadException($"'{sealedSecret.Name}' is not a valid Secret name.");
        await rules.RequireManagedAsync(sealedSecret.Namespace, cancellationToken);

        var reference = new ObjectReference("v1", "Secret", sealedSecret.Name, sealedSecret.Namespace);
        var existing = await kubernetes.GetAsync(reference, cancellationToken);
        var annotations = existing?["metadata"]?["annotations"];
        var appliedRequest = annotations?[SealedSecrets.RequestAnnotation]?.GetValue<string>();
        var appliedVersion = long.TryParse(annotations?[SealedSecrets.VersionAnnotation]?.GetValue<string>(), CultureInfo.InvariantCulture,
            out var v) ? v : 0;
        if (existing is not null && existing["metadata"]?["labels"]?[SealedSecrets.ManagedLabel]?.GetValue<string>() != "true")
            return Refuse($"Secret {sealedSecret.Namespace}/{sealedSecret.Name} exists and is not managed by Cogrion");
        // At-least-once delivery: the same command redelivered after its write (the report was lost) is a success;
        // the same ciphertext in any other command is a replay.
        if (appliedRequest == sealedSecret.RequestId.ToString("D") && appliedVersion == sealedSecret.Version
            && annotations?[SealedSecrets.CommandAnnotation]?.GetValue<string>() == command.Id.ToString("D"))
            return CommandOutcome.Succeeded($"Version {appliedVersion} of {sealedSecret.Namespace}/{sealedSecret.Name} was already applied.",
                Output(sealedSecret));
        if (state.SecretRequests?.ContainsKey(sealedSecret.RequestId.ToString("D")) == true)
            return Refuse($"request {sealedSecret.RequestId} was already applied once (a replay)");
        if (sealedSecret.Version <= appliedVersion)
            return Refuse($"version {sealedSecret.Version} is not greater than the applied version {appliedVersion} (a rollback or a replay)");

        using var key = keys.Find(sealedSecret.EncryptionKeyId);
        if (key is null) return Refuse($"encryption key {sealedSecret.EncryptionKeyId} is unknown to this agent or past its grace");
        IReadOnlyDictionary<string, byte[]> values;
        try
        {
            values = SealedSecrets.Open(sealedSecret, key);
        }
        catch (CryptographicException)
        {
            return Refuse("it does not open: it was changed, or sealed for another key, secret, version or workspace");
        }
        if (values.Count == 0) throw new InvalidPayloadException("a secret needs at least one key.");

        var data = new JsonObject();
        foreach (var (name, value) in values)
        {
            data[name] = Convert.ToBase64String(value);
            CryptographicOperations.ZeroMemory(value);
        }
        await kubernetes.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject
            {
                ["name"] = sealedSecret.Name,
                ["namespace"] = sealedSecret.Namespace,
                ["labels"] = new JsonObject { [AgentLabels.ManagedBy] = AgentLabels.ManagedByValue, [SealedSecrets.ManagedLabel] = "true" },
                ["annotations"] = new JsonObject
                {
                    [SealedSecrets.VersionAnnotation] = sealedSecret.Version.ToString(CultureInfo.InvariantCulture),
                    [SealedSecrets.RequestAnnotation] = sealedSecret.RequestId.ToString("D"),
                    [SealedSecrets.CommandAnnotation] = command.Id.ToString("D"),
                },
            },
            ["type"] = "Opaque",
            ["data"] = data,
        }, cancellationToken);

        // Remembered after the write: a crash in between is the "already applied" case above on redelivery.
        var requests = (session.State.SecretRequests ?? new Dictionary<string, long>()).Where(r => r.Value > now)
            .ToDictionary(r => r.Key, r => r.Value);
        requests[sealedSecret.RequestId.ToString("D")] = sealedSecret.NotAfter;
        var next = session.State with { SecretRequests = requests };
        await store.SaveAsync(next, cancellationToken);
        session.Use(next);
        return CommandOutcome.Succeeded(
            $"Applied version {sealedSecret.Version} of Secret {sealedSecret.Namespace}/{sealedSecret.Name} ({values.Count} key(s)).",
                Output(sealedSecret));
    }

    private static JsonObject Output(SealedSecret secret) => new() { ["version"] = secret.Version, ["requestId"] = secret.RequestId.ToString("D") };

    private static CommandOutcome Refuse(string reason) => new(CommandOutcomes.Rejected,
        $"Refused the sealed secret: {reason}. Nothing was written.");
}

/// <summary>secret.delete: deletes a Secret this agent wrote (labelled as managed); one already gone counts as deleted.</summary>
public sealed class DeleteSecretExecutor(IKubernetesClient kubernetes, NamespaceRules rules) : ICommandExecutor
{
    public string Type => CommandTypes.DeleteSecret;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.DeleteSecretPayload)
            ?? throw new InvalidPayloadException("namespace and name are required.");
        if (!SealedSecrets.SecretName().IsMatch(payload.Name ?? ""))
            throw new InvalidPayloadException($"'{payload.Name}' is not a valid Secret name.");
        await rules.RequireManagedAsync(payload.Namespace, cancellationToken);
        var reference = new ObjectReference("v1", "Secret", payload.Name!, payload.Namespace);
        var existing = await kubernetes.GetAsync(reference, cancellationToken);
        if (existing is null) return CommandOutcome.Succeeded($"Secret {payload.Namespace}/{payload.Name} was already gone.");
        if (existing["metadata"]?["labels"]?[SealedSecrets.ManagedLabel]?.GetValue<string>() != "true")
            return new CommandOutcome(CommandOutcomes.Rejected,
                $"Secret {payload.Namespace}/{payload.Name} is not managed by Cogrion; left as it is.");
        await kubernetes.DeleteAsync(reference, cancellationToken);
        return CommandOutcome.Succeeded($"Deleted Secret {payload.Namespace}/{payload.Name}.");
    }
}
