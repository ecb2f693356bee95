using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;
using k8s;

namespace Cogrion.Agent.Support;

/// <summary>
/// The client support reads go through: the pod's own configuration, but every request impersonates
/// <see cref="AgentInstall.SupportReaderUser"/>, whose role reads pods, logs, events and workloads and nothing else. So the cluster
/// itself refuses a support read of a Secret or ConfigMap, whatever the agent's own checks say. Created at the first support read:
/// most agents never serve one, and an idle agent keeps its memory small.
/// </summary>
public sealed class SupportReadClient(KubernetesClientConfiguration configuration)
{
    private readonly Lazy<IKubernetesClient> client = new(() => new KubernetesClient(configuration, impersonate: AgentInstall.SupportReaderUser));

    public IKubernetesClient Kubernetes => client.Value;
}
