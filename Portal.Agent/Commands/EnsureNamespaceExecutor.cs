using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Commands;

/// <summary>
/// namespace.ensure: a tenant app's own non-privileged namespace. Pod Security "restricted", the
/// agent's workload role bound inside it (and only inside it), a ResourceQuota, and a default-deny
/// NetworkPolicy (apps open what they need with their own policies). Apply makes it idempotent.
/// </summary>
public sealed class EnsureNamespaceExecutor(IKubernetesClient kubernetes, AgentPod pod) : ICommandExecutor
{
    public string Type => CommandTypes.EnsureNamespace;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.EnsureNamespacePayload)
            ?? throw new InvalidPayloadException("namespace is required.");
        NamespaceRules.RequireAppNamespaceName(payload.Namespace);
        var ns = payload.Namespace;
        // "restricted" unless the app's catalog entry says its chart needs "baseline"; never "privileged".
        var level = payload.PodSecurity ?? "restricted";
        if (level is not ("restricted" or "baseline"))
            throw new InvalidPayloadException($"Pod Security level '{level}' is not allowed for a tenant app (restricted or baseline).");

        var labels = new JsonObject
        {
            [AgentLabels.ManagedBy] = AgentLabels.ManagedByValue,
            ["pod-security.kubernetes.io/enforce"] = level,
            // Audit and warn at restricted even when enforcing baseline, so what a chart lacks stays visible.
            ["pod-security.kubernetes.io/audit"] = "restricted",
            ["pod-security.kubernetes.io/warn"] = "restricted",
        };
        if (!string.IsNullOrWhiteSpace(payload.App)) labels[AgentLabels.App] = payload.App;
        await kubernetes.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["metadata"] = new JsonObject { ["name"] = ns, ["labels"] = labels },
        }, cancellationToken);

        // First the binding: the agent's rights inside the namespace come from it (RBAC 'bind' on this one role).
        await kubernetes.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1",
            ["kind"] = "RoleBinding",
            ["metadata"] = Metadata(AgentInstall.WorkloadRoleBinding, ns),
            ["roleRef"] = new JsonObject
            {
                ["apiGroup"] = "rbac.authorization.k8s.io",
                ["kind"] = "ClusterRole",
                ["name"] = AgentInstall.WorkloadClusterRole
            },
            ["subjects"] = new JsonArray(new JsonObject
            {
                ["kind"] = "ServiceAccount",
                ["name"] = AgentInstall.ServiceAccount,
                ["namespace"] = pod.Namespace,
            }),
        }, cancellationToken);

        await kubernetes.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ResourceQuota",
            ["metadata"] = Metadata("cogrion-quota", ns),
            ["spec"] = new JsonObject
            {
                ["hard"] = new JsonObject
                {
                    ["requests.cpu"] = payload.CpuQuota ?? "4",
                    ["requests.memory"] = payload.MemoryQuota ?? "8Gi",
                    ["limits.memory"] = payload.MemoryQuota ?? "8Gi",
                    ["pods"] = (payload.PodQuota ?? 50).ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
            },
        }, cancellationToken);

        await kubernetes.ApplyAsync(new JsonObject
        {
            ["apiVersion"] = "networking.k8s.io/v1",
            ["kind"] = "NetworkPolicy",
            ["metadata"] = Metadata("default-deny", ns),
            ["spec"] = new JsonObject
            {
                ["podSelector"] = new JsonObject(),
                ["policyTypes"] = new JsonArray("Ingress", "Egress"),
            },
        }, cancellationToken);

        return CommandOutcome.Succeeded($"Namespace {ns} is in place ({level}, quota, default-deny).", new JsonObject { ["namespace"] = ns });
    }

    private static JsonObject Metadata(string name, string ns) => new()
    {
        ["name"] = name,
        ["namespace"] = ns,
        ["labels"] = new JsonObject { [AgentLabels.ManagedBy] = AgentLabels.ManagedByValue },
    };
}

/// <summary>
/// namespace.delete: removes an app's namespace the agent created, and everything in it (Kubernetes deletes the contents).
/// Unless the payload says to delete the data, the persistent volumes bound to the namespace's claims are first set to
/// the Retain reclaim policy and labelled with the namespace they came from: they outlive their claims, as Released.
/// </summary>
public sealed class DeleteNamespaceExecutor(IKubernetesClient kubernetes, NamespaceRules rules) : ICommandExecutor
{
    public string Type => CommandTypes.DeleteNamespace;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.DeleteNamespacePayload)
            ?? throw new InvalidPayloadException("namespace is required.");
        NamespaceRules.RequireAppNamespaceName(payload.Namespace);
        var reference = new ObjectReference("v1", "Namespace", payload.Namespace, null);
        if (await kubernetes.GetAsync(reference, cancellationToken) is null)
            return CommandOutcome.Succeeded($"Namespace {payload.Namespace} was already gone.");
        await rules.RequireManagedAsync(payload.Namespace, cancellationToken);
        var kept = payload.DeleteData ? [] : await RetainVolumesAsync(payload.Namespace, cancellationToken);
        await kubernetes.DeleteAsync(reference, cancellationToken);
        return CommandOutcome.Succeeded(payload.DeleteData
            ? $"Namespace {payload.Namespace} is being deleted with everything in it, its data included."
            : $"Namespace {payload.Namespace} is being deleted; its data is kept: {kept.Count} persistent volume(s) retained" +
                (kept.Count == 0 ? "." : $" ({string.Join(", ", kept)})."));
    }

    private async Task<List<string>> RetainVolumesAsync(string ns, CancellationToken cancellationToken)
    {
        var kept = new List<string>();
        foreach (var claim in await kubernetes.ListAsync("v1", "PersistentVolumeClaim", ns, null, cancellationToken))
        {
            if (claim["spec"]?["volumeName"]?.GetValue<string>() is not { Length: > 0 } volume) continue;
            var reference = new ObjectReference("v1", "PersistentVolume", volume, null);
            var existing = await kubernetes.GetAsync(reference, cancellationToken);
            if (existing is null) continue;
            var patch = new JsonArray();
            if (existing["metadata"]?["labels"] is not JsonObject)
                patch.Add((JsonNode)new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels", ["value"] = new JsonObject() });
            patch.Add((JsonNode)new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels/cogrion.io~1kept-from", ["value"] = ns });
            patch.Add((JsonNode)new JsonObject { ["op"] = "replace", ["path"] = "/spec/persistentVolumeReclaimPolicy", ["value"] = "Retain" });
            await kubernetes.JsonPatchAsync(reference, patch, cancellationToken);
            kept.Add(volume);
        }
        return kept;
    }
}
