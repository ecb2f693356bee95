using System.Text.RegularExpressions;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Commands;

/// <summary>
/// Where the agent may act: only in namespaces it created for tenant apps (labelled
/// managed-by=cogrion-agent), never in system namespaces or its own. A signed command cannot
/// widen that; the RBAC in the install manifest enforces the same from the cluster's side.
/// </summary>
public sealed partial class NamespaceRules(IKubernetesClient kubernetes)
{
    private static readonly HashSet<string> Reserved = ["default", "kube-system", "kube-public", "kube-node-lease", AgentInstall.Namespace];

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    public static void RequireAppNamespaceName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || !DnsLabel().IsMatch(name))
            throw new InvalidPayloadException(
                $"'{name}' is not a valid namespace name (a DNS label: lower-case letters, digits and '-', at most 63).");
        if (Reserved.Contains(name) || name.StartsWith("kube-", StringComparison.Ordinal))
            throw new InvalidPayloadException($"'{name}' is a system namespace; tenant apps get namespaces of their own.");
    }

    public async Task RequireManagedAsync(string? @namespace, CancellationToken cancellationToken)
    {
        RequireAppNamespaceName(@namespace);
        var ns = await kubernetes.GetAsync(new ObjectReference("v1", "Namespace", @namespace!, null), cancellationToken);
        if (ns?["metadata"]?["labels"]?[AgentLabels.ManagedBy]?.GetValue<string>() != AgentLabels.ManagedByValue)
            throw new InvalidPayloadException($"Namespace '{@namespace}' was not created by this agent (run {CommandTypes.EnsureNamespace} first).");
    }
}
