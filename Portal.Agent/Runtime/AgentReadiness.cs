namespace Cogrion.Agent.Runtime;

/// <summary>
/// Whether this pod may take over from an older one: ready once it has exchanged its key for a token
/// with the Portal and completed a command poll. A rollout (maxUnavailable 0) keeps the old pod until
/// then, so an agent version that cannot talk to the Portal never replaces one that can.
/// </summary>
public sealed class AgentReadiness
{
    private volatile string notReadyBecause = "starting: the agent has not loaded its registration yet";

    public bool IsReady => notReadyBecause.Length == 0;

    /// <summary>Why the pod is not ready, or empty when it is.</summary>
    public string NotReadyBecause => notReadyBecause;

    public void NotReady(string reason) => notReadyBecause = reason;

    /// <summary>A token was obtained and a poll answered: the agent reaches the Portal as itself.</summary>
    public void Ready() => notReadyBecause = "";
}
