namespace Cogrion.Agent.Identity;

/// <summary>Where the agent's state lives: a Kubernetes Secret of its own namespace.</summary>
public interface IAgentStateStore
{
    Task<AgentState?> LoadAsync(CancellationToken cancellationToken);
    Task SaveAsync(AgentState state, CancellationToken cancellationToken);
    /// <summary>Forgets everything (after an uninstall).</summary>
    Task DeleteAsync(CancellationToken cancellationToken);
}
