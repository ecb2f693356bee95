using Cogrion.Agent.Identity;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Commands;

/// <summary>
/// The agent's check before it acts on anything: signed by the Portal key pinned at registration,
/// addressed to this agent, not expired. A command failing any of these is never executed.
/// </summary>
public sealed class CommandVerifier(AgentSession session, TimeProvider time)
{
    public bool TryVerify(string signed, out CommandEnvelope? command, out string? rejection)
    {
        command = null;
        if (!Jws.TryVerify(signed, ProtocolJson.Default.CommandEnvelope, ProtocolV1.CommandJwsType, session.PortalCommandKey, out var verified))
        {
            rejection = "The command's signature does not verify against the Portal key pinned at registration.";
            return false;
        }
        if (verified!.AgentId != session.State.AgentId)
        {
            rejection = $"The command is addressed to agent {verified.AgentId}, not to this agent ({session.State.AgentId}).";
            return false;
        }
        if (verified.ExpiresAt <= time.GetUtcNow())
        {
            rejection = $"The command expired at {verified.ExpiresAt:u}.";
            return false;
        }
        command = verified;
        rejection = null;
        return true;
    }
}
