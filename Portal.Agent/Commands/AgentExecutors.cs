using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Identity;
using Cogrion.Agent.Kubernetes;
using Cogrion.Agent.Protocol;
using Cogrion.Agent.Runtime;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Commands;

/// <summary>inventory.report: a heartbeat now, instead of at the next beat.</summary>
public sealed class ReportInventoryExecutor(InventoryReader inventory, IPortalClient portal) : ICommandExecutor
{
    public string Type => CommandTypes.ReportInventory;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var current = await inventory.ReadAsync(cancellationToken);
        await portal.SendHeartbeatAsync(new HeartbeatRequest(AgentVersion.Current, current), cancellationToken);
        return CommandOutcome.Succeeded($"Reported {current.Nodes.Count} node(s) and {current.Namespaces.Count} managed namespace(s).");
    }
}

/// <summary>
/// agent.rotate-key: a new key pair, made in the cluster; the private half never leaves it. The new
/// key is saved as pending first, then registered, then promoted: a crash at any point leaves the
/// agent with a key the Portal accepts.
/// </summary>
public sealed class RotateKeyExecutor(AgentSession session, IAgentStateStore store, IPortalClient portal) : ICommandExecutor
{
    public string Type => CommandTypes.RotateKey;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        using var key = ProtocolKeys.Create();
        var pending = session.State with { PendingPrivateKey = Convert.ToBase64String(key.ExportPkcs8PrivateKey()) };
        await store.SaveAsync(pending, cancellationToken);
        session.Use(pending);

        await portal.RotateKeyAsync(new KeyRotationRequest(command.Id, ProtocolKeys.ExportPublicKey(key)), cancellationToken);

        var promoted = pending with { PrivateKey = pending.PendingPrivateKey!, PendingPrivateKey = null };
        await store.SaveAsync(promoted, cancellationToken);
        session.Use(promoted);
        // The Portal dropped the old key's access token; the result is reported with one from the new key.
        portal.ForgetAccessToken();
        var keyId = ProtocolKeys.KeyId(key);
        return CommandOutcome.Succeeded($"Rotated to key {keyId}.", new JsonObject { ["keyId"] = keyId });
    }
}

/// <summary>
/// agent.uninstall: deletes every namespace the agent created (and with them the tenant apps), or, with <c>keepApps</c>, hands them over
/// (its RoleBinding goes, its labels come off the namespace, quota, policy and Flux objects), reports, and only then removes itself (its namespace,
/// cluster roles and state) and stops.
/// The agent adds no finalizer and no admission webhook to anything, so nothing it leaves can hang in Terminating waiting for it.
/// </summary>
public sealed class UninstallExecutor(
    IKubernetesClient kubernetes,
    IAgentStateStore store,
    AgentLifecycle lifecycle,
    AgentPod pod,
    TimeProvider time,
    ILogger<UninstallExecutor> logger) : ICommandExecutor
{
    /// <summary>How often removing itself is tried before the agent gives up and stops (saying what is left in its log).</summary>
    private const int RemovalAttempts = 5;

    public string Type => CommandTypes.Uninstall;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.ValueKind == System.Text.Json.JsonValueKind.Object
            ? command.Payload.Deserialize(ProtocolJson.Default.UninstallPayload) ?? new UninstallPayload()
            : new UninstallPayload();
        var managed = await kubernetes.ListAsync("v1", "Namespace", null, AgentLabels.ManagedSelector, cancellationToken);
        var handled = new JsonArray();
        foreach (var ns in managed)
        {
            var name = ns["metadata"]!["name"]!.GetValue<string>();
            if (payload.KeepApps) await HandOverAsync(name, cancellationToken);
            else await kubernetes.DeleteAsync(new ObjectReference("v1", "Namespace", name, null), cancellationToken);
            handled.Add((JsonNode)name);
        }
        var what = payload.KeepApps ? $"Handed {handled.Count} app namespace(s) over to the tenant (apps keep running)"
            : $"Removed {handled.Count} tenant app namespace(s)";
        return new CommandOutcome(CommandOutcomes.Succeeded,
            $"{what}; the agent removes itself next (its state, its workload and support-reader roles, its namespace, and with the " +
                $"namespace its cluster role and binding).",
            new JsonObject { ["namespaces"] = handled, ["keepApps"] = payload.KeepApps }, RemoveSelfWithRetriesAsync);
    }

    /// <summary>
    /// Leaves an app namespace to the tenant. Labels first (the RoleBinding gives the rights to patch the quota and the policy), the
    /// binding next, the namespace's own label last: until then it is still found as managed, so a crash midway is finished by the
    /// command's redelivery. Each change is made only when still needed, so running it twice is harmless.
    /// </summary>
    private async Task HandOverAsync(string ns, CancellationToken cancellationToken)
    {
        foreach (var (apiVersion, kind) in HandedOverKinds)
        {
            IReadOnlyList<JsonObject> labelled;
            try
            {
                labelled = await kubernetes.ListAsync(apiVersion, kind, ns, AgentLabels.ManagedSelector, cancellationToken);
            }
            catch (KubernetesException ex) when (ex.NotServed is not null)
            {
                continue; // Flux's kinds in a cluster without Flux: there is nothing of them to hand over.
            }
            foreach (var item in labelled)
                await RemoveManagedLabelAsync(new ObjectReference(apiVersion, kind, item["metadata"]!["name"]!.GetValue<string>(), ns),
                    cancellationToken);
        }
        await kubernetes.DeleteAsync(new ObjectReference("rbac.authorization.k8s.io/v1", "RoleBinding", AgentInstall.WorkloadRoleBinding, ns),
            cancellationToken);
        await RemoveManagedLabelAsync(new ObjectReference("v1", "Namespace", ns, null), cancellationToken);
    }

    /// <summary>What the agent labels in an app namespace (namespace.ensure, the catalog's manifests), all within its workload role's
    /// rights.</summary>
    private static readonly (string ApiVersion, string Kind)[] HandedOverKinds =
    [
        ("v1", "ResourceQuota"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("source.toolkit.fluxcd.io/v1", "HelmRepository"),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
    ];

    private Task<JsonObject> RemoveManagedLabelAsync(ObjectReference reference, CancellationToken cancellationToken) =>
        kubernetes.JsonPatchAsync(reference, new JsonArray(
            new JsonObject
            {
                ["op"] = "test",
                ["path"] = "/metadata/labels/" + AgentLabels.ManagedBy.Replace("/", "~1"),
                ["value"] = AgentLabels.ManagedByValue
            },
            new JsonObject { ["op"] = "remove", ["path"] = "/metadata/labels/" + AgentLabels.ManagedBy.Replace("/", "~1") }), cancellationToken);

    /// <summary>
    /// The command is already reported as succeeded when this runs, so it is not delivered again: a failure here (an API server
    /// that is briefly unavailable or slow) is tried again in place, each step being harmless to repeat, rather than leaving the
    /// agent installed while the Portal believes it gone. The agent is leaving from here on (<see cref="AgentLifecycle.IsLeaving"/>): the
    /// refusal its next call to the Portal meets does not cut the removal short.
    /// </summary>
    private async Task RemoveSelfWithRetriesAsync(CancellationToken cancellationToken)
    {
        lifecycle.BeginLeaving();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await RemoveSelfAsync(cancellationToken);
                return;
            }
            catch (KubernetesException ex) when (attempt < RemovalAttempts)
            {
                logger.LogWarning("Removing the agent's own objects failed (attempt {Attempt} of {Attempts}): {Problem}; trying again",
                    attempt, RemovalAttempts, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(attempt), time, cancellationToken);
            }
            catch (KubernetesException ex)
            {
                // The Portal already counts this agent as gone and revokes it, so running on would only be refused: stop, and say
                // what to remove by hand (the same objects the offboarding page lists for an agent that could not uninstall).
                lifecycle.Stop(AgentExitCodes.UninstallIncomplete,
                    $"Removing the agent's own objects failed {RemovalAttempts} times ({ex.Message}). Remove what is left with cluster-admin " +
                    $"rights: kubectl delete namespace {pod.Namespace} --ignore-not-found; kubectl delete clusterrolebinding " +
                    $"{AgentInstall.ClusterRoleBinding} {AgentInstall.SupportReader} --ignore-not-found; kubectl delete clusterrole " +
                    $"{AgentInstall.ClusterRole} {AgentInstall.WorkloadClusterRole} {AgentInstall.SupportReader} --ignore-not-found");
                return;
            }
        }
    }

    private async Task RemoveSelfAsync(CancellationToken cancellationToken)
    {
        await store.DeleteAsync(cancellationToken);
        // Every delete needs a right the install granted, checked per request, so the agent cannot delete the ClusterRole that
        // grants its rights and then still delete the binding (or the reverse). Instead it makes both dependents of its own
        // namespace: when the namespace is gone, the cluster's garbage collector removes them, and nothing of the install is
        // left. Deleting the namespace stops this pod (its Deployment goes with it), so the last call must not wait for the
        // cancellation the shutdown brings.
        await OwnByNamespaceAsync(cancellationToken);
        await kubernetes.DeleteAsync(new ObjectReference("rbac.authorization.k8s.io/v1", "ClusterRole", AgentInstall.WorkloadClusterRole, null),
            cancellationToken);
        await kubernetes.DeleteAsync(new ObjectReference("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", AgentInstall.SupportReader, null),
            cancellationToken);
        await kubernetes.DeleteAsync(new ObjectReference("rbac.authorization.k8s.io/v1", "ClusterRole", AgentInstall.SupportReader, null),
            cancellationToken);
        await kubernetes.DeleteAsync(new ObjectReference("v1", "Namespace", pod.Namespace, null), CancellationToken.None);
        lifecycle.Stop(AgentExitCodes.Uninstalled, "The agent was uninstalled by command and removed what it created. Goodbye.");
    }

    /// <summary>
    /// Sets the agent's namespace as the owner of its ClusterRole and ClusterRoleBinding (a cluster-scoped owner, as Kubernetes
    /// requires for cluster-scoped dependents). Without <c>blockOwnerDeletion</c>, so no right on the namespace's finalizers is
    /// needed. Patching again with the same owner is harmless, so a redelivered uninstall repeats it.
    /// </summary>
    private async Task OwnByNamespaceAsync(CancellationToken cancellationToken)
    {
        var ns = await kubernetes.GetAsync(new ObjectReference("v1", "Namespace", pod.Namespace, null), cancellationToken);
        if (ns?["metadata"]?["uid"]?.GetValue<string>() is not { } uid) return;
        var owners = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["name"] = pod.Namespace,
            ["uid"] = uid,
        });
        foreach (var (kind, name) in ((string, string)[])[("ClusterRole", AgentInstall.ClusterRole),
                     ("ClusterRoleBinding", AgentInstall.ClusterRoleBinding)])
        {
            await kubernetes.JsonPatchAsync(new ObjectReference("rbac.authorization.k8s.io/v1", kind, name, null),
                new JsonArray(new JsonObject { ["op"] = "add", ["path"] = "/metadata/ownerReferences", ["value"] = owners.DeepClone() }),
                cancellationToken);
        }
    }
}
