using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Cogrion.Agent.Kubernetes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Identity;

/// <summary>
/// The in-cluster state store: the Secret cogrion-agent-state in the agent's own namespace. The
/// install manifest lets the agent create it and read or patch it by name, and nothing else there.
/// </summary>
public sealed class KubernetesSecretStateStore(IKubernetesClient kubernetes, IOptions<AgentOptions> options) : IAgentStateStore
{
    public const string SecretName = "cogrion-agent-state";
    private const string Key = "state.json";

    private ObjectReference Reference => new("v1", "Secret", SecretName, options.Value.StateSecretNamespace);

    public async Task<AgentState?> LoadAsync(CancellationToken cancellationToken)
    {
        var secret = await kubernetes.GetAsync(Reference, cancellationToken);
        var data = secret?["data"]?[Key]?.GetValue<string>();
        return data is null ? null : JsonSerializer.Deserialize(Convert.FromBase64String(data), AgentStateJson.Default.AgentState);
    }

    public Task SaveAsync(AgentState state, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(state, AgentStateJson.Default.AgentState);
        var secret = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = SecretName, ["namespace"] = options.Value.StateSecretNamespace },
            ["type"] = "Opaque",
            ["data"] = new JsonObject { [Key] = Convert.ToBase64String(json) },
        };
        return kubernetes.ApplyAsync(secret, cancellationToken);
    }

    public async Task DeleteAsync(CancellationToken cancellationToken) => await kubernetes.DeleteAsync(Reference, cancellationToken);
}
