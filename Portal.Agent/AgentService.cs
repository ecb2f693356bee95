using Microsoft.Extensions.Options;

namespace Cogrion.Agent;

/// <summary>
/// The agent's main loop. Until protocol v1 lands (registration, long-poll, heartbeat), it
/// announces itself and waits, so its packaging and configuration can be exercised end to end.
/// </summary>
public sealed class AgentService(IOptions<AgentOptions> options, ILogger<AgentService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Cogrion Cluster Agent {Version} started; Portal at {PortalUrl}, state in {StateDirectory}",
            AgentVersion.Current, options.Value.PortalUrl, options.Value.StateDirectory);
        await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        logger.LogInformation("Cogrion Cluster Agent stopping");
    }
}
