namespace Cogrion.Agent.Runtime;

/// <summary>Exit codes an operator (or Kubernetes) sees.</summary>
public static class AgentExitCodes
{
    public const int Ok = 0;
    public const int InvalidConfiguration = 2;
    public const int RegistrationRefused = 3;
    public const int Revoked = 4;
    public const int Uninstalled = 0;
}

/// <summary>Stops the agent with a reason that is logged where an operator looks first.</summary>
public sealed class AgentLifecycle(IHostApplicationLifetime lifetime, ILogger<AgentLifecycle> logger)
{
    public void Stop(int exitCode, string reason)
    {
        if (exitCode == AgentExitCodes.Ok) logger.LogInformation("Stopping: {Reason}", reason);
        else logger.LogCritical("Stopping: {Reason}", reason);
        Environment.ExitCode = exitCode;
        lifetime.StopApplication();
    }
}
