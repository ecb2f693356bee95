using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Commands;

/// <summary>
/// release.reconcile: sets Flux's reconcile.fluxcd.io/requestedAt and forceAt annotations on an app's HelmRelease, as
/// `flux reconcile helmrelease --force` does. helm-controller then reconciles at once: a release left in a pending-*
/// state (its Helm lock held by an action that never finished) is unlocked and the install or upgrade is retried, by
/// Flux's own remediation. Only in a namespace the agent manages.
/// </summary>
public sealed class ReconcileReleaseExecutor(IKubernetesClient kubernetes, NamespaceRules rules) : ICommandExecutor
{
    public const string RequestedAtAnnotation = "reconcile.fluxcd.io/requestedAt";
    public const string ForceAtAnnotation = "reconcile.fluxcd.io/forceAt";

    public string Type => CommandTypes.ReconcileRelease;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.ReconcileReleasePayload)
            ?? throw new InvalidPayloadException("namespace, name and requestedAt are required.");
        if (string.IsNullOrEmpty(payload.Name) || string.IsNullOrEmpty(payload.RequestedAt))
            throw new InvalidPayloadException("name and requestedAt are required.");
        await rules.RequireManagedAsync(payload.Namespace, cancellationToken);
        var reference = new ObjectReference("helm.toolkit.fluxcd.io/v2", "HelmRelease", payload.Name, payload.Namespace);
        var release = await kubernetes.GetAsync(reference, cancellationToken);
        if (release is null) return CommandOutcome.Succeeded($"HelmRelease {payload.Namespace}/{payload.Name} is gone; nothing to reconcile.");
        var patch = new JsonArray();
        if (release["metadata"]?["annotations"] is not JsonObject)
            patch.Add((JsonNode)new JsonObject { ["op"] = "add", ["path"] = "/metadata/annotations", ["value"] = new JsonObject() });
        foreach (var annotation in new[] { RequestedAtAnnotation, ForceAtAnnotation })
            patch.Add((JsonNode)new JsonObject
            {
                ["op"] = "add",
                ["path"] = "/metadata/annotations/" + annotation.Replace("~", "~0", StringComparison.Ordinal)
                    .Replace("/", "~1", StringComparison.Ordinal),
                ["value"] = payload.RequestedAt,
            });
        await kubernetes.JsonPatchAsync(reference, patch, cancellationToken);
        return CommandOutcome.Succeeded(
            $"Asked Flux to reconcile HelmRelease {payload.Namespace}/{payload.Name} now, forced ({payload.RequestedAt}).");
    }
}
