using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Identity;

/// <summary>
/// The agent's state store: the Secret cogrion-agent-state in its own namespace. The install lets the
/// agent create it and read, patch or delete it by name, and no other Secret there.
/// </summary>
public sealed class KubernetesSecretStateStore(IKubernetesClient kubernetes, AgentPod pod) : IAgentStateStore
{
    private ObjectReference Reference => new("v1", "Secret", AgentInstall.StateSecret, pod.Namespace);

    public async Task<AgentState?> LoadAsync(CancellationToken cancellationToken)
    {
        var secret = await kubernetes.GetAsync(Reference, cancellationToken);
        var data = secret?["data"]?[AgentInstall.StateSecretKey]?.GetValue<string>();
        return data is null ? null : JsonSerializer.Deserialize(Convert.FromBase64String(data), AgentStateJson.Default.AgentState);
    }

    public Task SaveAsync(AgentState state, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(state, AgentStateJson.Default.AgentState);
        var secret = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = AgentInstall.StateSecret, ["namespace"] = pod.Namespace },
            ["type"] = "Opaque",
            ["data"] = new JsonObject { [AgentInstall.StateSecretKey] = Convert.ToBase64String(json) },
        };
        return kubernetes.ApplyAsync(secret, cancellationToken);
    }

    public async Task DeleteAsync(CancellationToken cancellationToken) => await kubernetes.DeleteAsync(Reference, cancellationToken);
}
