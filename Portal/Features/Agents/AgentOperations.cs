using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Agents;

/// <summary>
/// What a platform operator does to the fleet, one set of rules for the fleet and agent pages and
/// for <see cref="AgentAdminApi"/>: mint a bootstrap token for a workspace that exists in the tenant
/// named, and send one of the operator's commands to an active agent (in that agent's own tenant).
/// Each change is audited by the service that makes it.
/// </summary>
public sealed class AgentOperations(NpgsqlDataSource dataSource, AgentEnrollment enrollment, AgentCommandQueue queue, AgentRegistry registry)
{
    /// <summary>The commands an operator may send by hand; the others are sent by the Portal's own flows (uninstall by offboarding).</summary>
    public static readonly IReadOnlyList<string> OperatorCommandTypes = [CommandTypes.ReportInventory, CommandTypes.RotateKey];

    /// <summary>A one-time token for the workspace; not found unless the workspace exists (and is not destroyed) in that tenant.</summary>
    public async Task<CommandResult<BootstrapToken>> MintBootstrapTokenAsync(Guid tenantId, Guid workspaceId, Actor actor,
        CancellationToken cancellationToken)
    {
        // Read here rather than through the workspaces feature, which itself depends on this one (it installs agents).
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select exists (select 1 from workspaces where id = @workspaceId and tenant_id = @tenantId and status <> 'destroyed')",
                new { tenantId, workspaceId }, cancellationToken: cancellationToken));
            if (!exists) return CommandResult<BootstrapToken>.NotFound();
        }
        return CommandResult<BootstrapToken>.Ok(await enrollment.CreateBootstrapTokenAsync(tenantId, workspaceId, actor, cancellationToken));
    }

    /// <summary>Sends an operator command to an agent; not found for an unknown agent, a field error for a type operators may not send or an agent
    /// that is no longer active.</summary>
    public async Task<CommandResult<EnqueuedCommand>> SendCommandAsync(Guid agentId, string? type, Actor actor, CancellationToken cancellationToken)
    {
        if (type is null || !OperatorCommandTypes.Contains(type, StringComparer.Ordinal))
            return CommandResult<EnqueuedCommand>.Invalid("type", $"An operator may send {string.Join(" or ", OperatorCommandTypes)}.");
        if (await registry.GetAsync(agentId, cancellationToken) is not { } agent) return CommandResult<EnqueuedCommand>.NotFound();
        // The command belongs to the agent's own tenant: it is never enqueued under another.
        var queued = await queue.EnqueueAsync(new NewAgentCommand(agent.TenantId, agentId, type), actor, cancellationToken);
        return queued is null
            ? CommandResult<EnqueuedCommand>.Invalid("agentId", $"The agent is {agent.Status}, not active: it takes no more commands.")
            : CommandResult<EnqueuedCommand>.Ok(queued);
    }
}
