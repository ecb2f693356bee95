namespace Cogrion.Portal.Features.Workspaces;

/// <summary>A workspace's agent in one word, as the workspace list shows it.</summary>
public static class WorkspaceAgentHealth
{
    /// <summary>An agent silent for longer than this is "silent" (heartbeats come every 30 seconds).</summary>
    public static readonly TimeSpan SilentAfter = TimeSpan.FromMinutes(2);

    public static string Describe(WorkspaceSummary item, DateTimeOffset now)
    {
        if (item.ActiveAgents == 0) return item.Workspace.Status == WorkspaceStatus.Ready ? "not connected" : "—";
        if (item.AgentLastSeenAt is not { } at) return "registered";
        return now - at < SilentAfter ? "healthy" : "silent";
    }
}
