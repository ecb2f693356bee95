using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Commands;

/// <summary>
/// agent.upgrade: the agent patches its own Deployment's image (the one self-modifying right its
/// install grants) and watches the rollout. The Deployment's strategy (maxUnavailable 0) keeps this
/// pod until a new one is ready, and the new one is ready only after it has exchanged a token with
/// the Portal and completed a poll. If no new pod is ready by the deadline, the agent puts the
/// previous image back and reports why (the new pods' state). Idempotent: run again (a redelivery,
/// or by the new pod, which sees the same pending command), it finds the image already set and waits
/// for the same readiness.
/// </summary>
public sealed class UpgradeExecutor(IKubernetesClient kubernetes, AgentPod pod, TimeProvider time, ILogger<UpgradeExecutor> logger) : ICommandExecutor
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);

    public string Type => CommandTypes.Upgrade;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.UpgradePayload)
            ?? throw new InvalidPayloadException("image and version are required.");
        if (!AgentImage.TryParse(payload.Image, out _))
            throw new InvalidPayloadException($"'{payload.Image}' is not an image pinned by version ({AgentImage.Rule}).");
        var deadline = payload.ReadyWithinSeconds is > 0 and <= 3600 ? TimeSpan.FromSeconds(payload.ReadyWithinSeconds.Value) : DefaultDeadline;

        var self = new ObjectReference("apps/v1", "Deployment", AgentInstall.Deployment, pod.Namespace);
        var deployment = await kubernetes.GetAsync(self, cancellationToken)
            ?? throw new InvalidPayloadException($"The agent's Deployment {pod.Namespace}/{AgentInstall.Deployment} does not exist: it was not " +
                $"installed by the Cogrion install.");
        var (index, previous) = AgentContainer(deployment);

        if (previous != payload.Image)
        {
            logger.LogInformation("Upgrading the agent from {Previous} to {Image}", previous, payload.Image);
            await SetImageAsync(self, index, payload.Image, cancellationToken);
        }
        var started = time.GetUtcNow();
        while (time.GetUtcNow() - started < deadline)
        {
            var (ready, _) = await NewPodsAsync(payload.Image, cancellationToken);
            if (ready)
                return CommandOutcome.Succeeded(
                    previous == payload.Image ? $"The agent runs {payload.Image} (version {payload.Version}); its pod is ready."
                        : $"Upgraded from {previous} to {payload.Image} (version {payload.Version}); the new pod is ready.",
                    new JsonObject { ["previousImage"] = previous, ["image"] = payload.Image, ["version"] = payload.Version });
            await Task.Delay(PollEvery, time, cancellationToken);
        }

        var (_, why) = await NewPodsAsync(payload.Image, cancellationToken);
        if (previous == payload.Image)
            return CommandOutcome.Failed($"{payload.Image} is set but no pod of it became ready within {deadline.TotalSeconds:0} s ({why}). No " +
                $"earlier image is known to this delivery; nothing was changed.");
        logger.LogWarning("Version {Version} did not become ready within {Seconds} s ({Why}); rolling back to {Previous}", payload.Version,
            deadline.TotalSeconds, why, previous);
        await SetImageAsync(self, index, previous, cancellationToken);
        return new CommandOutcome(CommandOutcomes.Failed,
            $"Version {payload.Version} ({payload.Image}) did not become ready within {deadline.TotalSeconds:0} s: {why}. Rolled back to {previous}.",
            new JsonObject { ["previousImage"] = previous, ["image"] = payload.Image, ["version"] = payload.Version, ["rolledBack"] = true });
    }

    private static (int Index, string Image) AgentContainer(JsonObject deployment)
    {
        var containers = deployment["spec"]?["template"]?["spec"]?["containers"] as JsonArray ?? [];
        for (var i = 0; i < containers.Count; i++)
            if (containers[i]?["name"]?.GetValue<string>() == AgentInstall.Container)
                return (i, containers[i]?["image"]?.GetValue<string>() ?? "");
        throw new InvalidPayloadException($"The agent's Deployment has no container named '{AgentInstall.Container}'.");
    }

    /// <summary>A JSON patch guarded by a test of the container's name, so it can never change another container.</summary>
    private Task SetImageAsync(ObjectReference self, int index, string image, CancellationToken cancellationToken) =>
        kubernetes.JsonPatchAsync(self, new JsonArray(
            new JsonObject { ["op"] = "test", ["path"] = $"/spec/template/spec/containers/{index}/name", ["value"] = AgentInstall.Container },
            new JsonObject { ["op"] = "replace", ["path"] = $"/spec/template/spec/containers/{index}/image", ["value"] = image }), cancellationToken);

    /// <summary>Whether a pod of the new image is ready; if not, what its pods say (waiting reasons, restarts, failing probes).</summary>
    private async Task<(bool Ready, string Why)> NewPodsAsync(string image, CancellationToken cancellationToken)
    {
        var pods = await kubernetes.ListAsync("v1", "Pod", pod.Namespace, $"{AgentInstall.NameLabel}={AgentInstall.NameLabelValue}",
            cancellationToken);
        var reasons = new List<string>();
        foreach (var candidate in pods)
        {
            var container = (candidate["spec"]?["containers"] as JsonArray ?? [])
                .FirstOrDefault(c => c?["name"]?.GetValue<string>() == AgentInstall.Container);
            if (container?["image"]?.GetValue<string>() != image) continue;
            var conditions = candidate["status"]?["conditions"] as JsonArray ?? [];
            var readyCondition = conditions.FirstOrDefault(c => c?["type"]?.GetValue<string>() == "Ready");
            if (readyCondition?["status"]?.GetValue<string>() == "True") return (true, "ready");
            reasons.Add(Describe(candidate, readyCondition));
        }
        return (false, reasons.Count == 0 ? "no pod of the new image was created" : string.Join("; ", reasons));
    }

    private static string Describe(JsonObject candidate, JsonNode? readyCondition)
    {
        var name = candidate["metadata"]?["name"]?.GetValue<string>() ?? "a pod";
        var status = (candidate["status"]?["containerStatuses"] as JsonArray ?? [])
            .FirstOrDefault(c => c?["name"]?.GetValue<string>() == AgentInstall.Container);
        var waiting = status?["state"]?["waiting"];
        var restarts = status?["restartCount"]?.GetValue<int>() ?? 0;
        var lastExit = status?["lastState"]?["terminated"]?["exitCode"]?.GetValue<int>();
        var parts = new List<string>();
        if (waiting?["reason"]?.GetValue<string>() is { } reason) parts.Add(waiting["message"]?.GetValue<string>() is { Length: > 0 } message
            ? $"{reason}: {message}" : reason);
        if (restarts > 0) parts.Add($"restarted {restarts} time(s){(lastExit is { } code ? $", last exit code {code}" : "")}");
        if (parts.Count == 0 && readyCondition?["message"]?.GetValue<string>() is { Length: > 0 } probe) parts.Add(probe);
        if (parts.Count == 0) parts.Add($"not ready ({candidate["status"]?["phase"]?.GetValue<string>() ?? "Pending"})");
        return $"pod {name}: {string.Join(", ", parts)}";
    }
}
