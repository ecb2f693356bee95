using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Features.Agents.Commands;

/// <summary>
/// The agent feature's subscription to <see cref="Channel"/> on the process's one LISTEN connection
/// (<see cref="PostgresNotifications"/>). Each notification names an agent id and wakes that agent's
/// long poll here, whichever replica enqueued the command (PostgreSQL delivers NOTIFY to every
/// listening session at commit). When notifications may have been missed (LISTEN just established,
/// connection lost or back) every waiter re-reads its queue, so nothing is missed for long.
/// </summary>
public sealed class AgentCommandSubscriber(AgentCommandSignals signals) : INotificationSubscriber
{
    public const string ChannelName = "agent_commands";

    public string Channel => ChannelName;

    public void OnNotification(string payload)
    {
        if (Guid.TryParse(payload, out var agentId)) signals.WakeUp(agentId);
    }

    public void CatchUp() => signals.WakeUpAll();
}
