using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Commands;

/// <summary>manifest.apply: server-side apply of namespaced objects, in order, inside namespaces the agent manages.</summary>
public sealed class ApplyManifestExecutor(IKubernetesClient kubernetes, NamespaceRules rules) : ICommandExecutor
{
    public string Type => CommandTypes.ApplyManifest;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.ApplyManifestPayload);
        if (payload?.Objects is not { Count: > 0 } objects) throw new InvalidPayloadException("objects must list at least one Kubernetes object.");
        // Check everything before changing anything, so a bad object does not leave half a manifest applied.
        var checkedNamespaces = new HashSet<string>();
        foreach (var manifest in objects)
        {
            var (kind, name, ns) = KubernetesClient.Describe(manifest);
            if (!kind.Namespaced) throw new InvalidPayloadException($"{kind.Kind} {name} is cluster-scoped; the agent applies only namespaced " +
                $"objects of tenant apps.");
            if (checkedNamespaces.Add(ns!)) await rules.RequireManagedAsync(ns, cancellationToken);
        }
        var applied = new JsonArray();
        foreach (var manifest in objects)
        {
            var labelled = (JsonObject)manifest.DeepClone();
            var metadata = (JsonObject)labelled["metadata"]!;
            if (metadata["labels"] is not JsonObject labels) metadata["labels"] = labels = new JsonObject();
            labels[AgentLabels.ManagedBy] = AgentLabels.ManagedByValue;
            var result = await kubernetes.ApplyAsync(labelled, cancellationToken);
            applied.Add((JsonNode)$"{labelled["kind"]} {metadata["namespace"]}/{metadata["name"]}@{result["metadata"]?["resourceVersion"]}");
        }
        return CommandOutcome.Succeeded($"Applied {objects.Count} object(s).", new JsonObject { ["applied"] = applied });
    }
}

/// <summary>manifest.delete: deletes the listed objects; one already gone counts as deleted.</summary>
public sealed class DeleteManifestExecutor(IKubernetesClient kubernetes, NamespaceRules rules) : ICommandExecutor
{
    public string Type => CommandTypes.DeleteManifest;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.DeleteManifestPayload);
        if (payload?.Objects is not { Count: > 0 } objects) throw new InvalidPayloadException("objects must list at least one object reference.");
        foreach (var reference in objects)
        {
            if (!ResourceKinds.For(reference)
                .Namespaced) throw new InvalidPayloadException($"{reference.Kind} {reference.Name} is cluster-scoped; delete its namespace's app " +
                $"instead.");
            await rules.RequireManagedAsync(reference.Namespace, cancellationToken);
        }
        var deleted = 0;
        foreach (var reference in objects)
            if (await kubernetes.DeleteAsync(reference, cancellationToken)) deleted++;
        return CommandOutcome.Succeeded($"Deleted {deleted} object(s); {objects.Count - deleted} were already gone.");
    }
}
