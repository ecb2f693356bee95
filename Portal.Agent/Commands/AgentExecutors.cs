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
/// agent.uninstall: deletes every namespace the agent created (and with them the tenant apps),
/// reports, and only then removes itself (its namespace, cluster roles and state) and stops.
/// </summary>
public sealed class UninstallExecutor(
    IKubernetesClient kubernetes,
    IAgentStateStore store,
    AgentLifecycle lifecycle,
    AgentPod pod) : ICommandExecutor
{
    public string Type => CommandTypes.Uninstall;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var managed = await kubernetes.ListAsync("v1", "Namespace", null, AgentLabels.ManagedSelector, cancellationToken);
        var removed = new JsonArray();
        foreach (var ns in managed)
        {
            var name = ns["metadata"]!["name"]!.GetValue<string>();
            await kubernetes.DeleteAsync(new ObjectReference("v1", "Namespace", name, null), cancellationToken);
            removed.Add((JsonNode)name);
        }
        return new CommandOutcome(CommandOutcomes.Succeeded,
            $"Removed {removed.Count} tenant app namespace(s); the agent removes itself next (its namespace, state and role binding; the unbound " +
                $"ClusterRole {AgentInstall.ClusterRole} is left for `kubectl delete clusterrole {AgentInstall.ClusterRole}`).",
            new JsonObject { ["namespaces"] = removed }, RemoveSelfAsync);
    }

    private async Task RemoveSelfAsync(CancellationToken cancellationToken)
    {
        await store.DeleteAsync(cancellationToken);
        // Every delete needs a right the install granted, checked per request: the binding that grants
        // them goes last, and its ClusterRole stays behind, unbound (it grants nothing; an operator may
        // delete it). Deleting the namespace stops this pod (its Deployment goes with it), so the last
        // call must not wait for the cancellation the shutdown brings.
        await kubernetes.DeleteAsync(new ObjectReference("rbac.authorization.k8s.io/v1", "ClusterRole", AgentInstall.WorkloadClusterRole, null),
            cancellationToken);
        await kubernetes.DeleteAsync(new ObjectReference("v1", "Namespace", pod.Namespace, null), cancellationToken);
        await kubernetes.DeleteAsync(new ObjectReference("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", AgentInstall.ClusterRoleBinding, null),
            CancellationToken.None);
        lifecycle.Stop(AgentExitCodes.Uninstalled, "The agent was uninstalled by command and removed what it created. Goodbye.");
    }
}
