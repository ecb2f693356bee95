namespace Cogrion.Agent.Runtime;

/// <summary>Exit codes an operator (or Kubernetes) sees.</summary>
public static class AgentExitCodes
{
    public const int Ok = 0;
    public const int InvalidConfiguration = 2;
    public const int RegistrationRefused = 3;
    public const int Revoked = 4;
    public const int Uninstalled = 0;
    /// <summary>The Portal accepted the uninstall, but removing the agent's own objects kept failing: what is left is in the log.</summary>
    public const int UninstallIncomplete = 5;
}

/// <summary>
/// Stops the agent with a reason that is logged where an operator looks first, and knows when the agent is leaving: removing
/// itself after an uninstall the Portal already accepted.
/// </summary>
public sealed class AgentLifecycle(IHostApplicationLifetime lifetime, ILogger<AgentLifecycle> logger)
{
    private volatile bool leaving;

    /// <summary>
    /// Whether the agent is removing itself after an uninstall the Portal accepted. The Portal drops an uninstalled agent's
    /// credentials as it records the result (and offboarding revokes it a moment later), so the beat that comes next is refused:
    /// that refusal must neither stop the removal halfway nor write back the state the removal just deleted.
    /// </summary>
    public bool IsLeaving => leaving;

    public void BeginLeaving() => leaving = true;

    public void Stop(int exitCode, string reason)
    {
        if (exitCode == AgentExitCodes.Ok) logger.LogInformation("Stopping: {Reason}", reason);
        else logger.LogCritical("Stopping: {Reason}", reason);
        Environment.ExitCode = exitCode;
        lifetime.StopApplication();
    }
}
