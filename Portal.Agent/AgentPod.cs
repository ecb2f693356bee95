using Cogrion.Agent.Protocol;

namespace Cogrion.Agent;

/// <summary>Where the agent runs: its own namespace (state Secret, Deployment), from its options or its service account.</summary>
public sealed record AgentPod(string Namespace)
{
    public static AgentPod From(AgentOptions options, k8s.KubernetesClientConfiguration cluster) =>
        new(!string.IsNullOrWhiteSpace(options.Namespace) ? options.Namespace
            : !string.IsNullOrWhiteSpace(cluster.Namespace) ? cluster.Namespace
            : AgentInstall.Namespace);
}
