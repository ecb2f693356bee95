using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;

namespace Cogrion.Portal.Features.Support;

/// <summary>What the agent decided about support commands, recorded in the transaction that records its result.</summary>
public static class SupportResultHandlers
{
    /// <summary>support.grant: the agent verified the approval and recorded the grant, or refused it (and said why).</summary>
    public sealed class Grant(AuditLog audit) : IAgentCommandResultHandler
    {
        public string CommandType => CommandTypes.SupportGrant;

        public async Task HandleAsync(AgentCommandResultContext context, CancellationToken cancellationToken)
        {
            var payload = context.Payload.Deserialize(ProtocolJson.Default.SupportGrantPayload);
            if (payload?.Grant is not { } grant) return;
            var recorded = context.Result.Outcome == CommandOutcomes.Succeeded;
            await context.Connection.ExecuteAsync(new CommandDefinition("""
                update support_requests set grant_status = @status, grant_message = left(@Message, 1000)
                where id = @RequestId and tenant_id = @TenantId
                """, new { status = recorded ? "recorded" : "refused", context.Result.Message, grant.RequestId, context.Agent.TenantId },
                context.Transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(Actor.Agent(context.Agent.AgentId), recorded ? "support.grant_recorded" : "support.grant_refused",
                context.Agent.TenantId, "support_request", grant.RequestId.ToString(), new { context.Result.Message }),
                context.Transaction, cancellationToken);
        }
    }

    /// <summary>support.revoke: the agent ended the grant (or closed the request); enforcement, as the agent reports it.</summary>
    public sealed class Revoke(AuditLog audit) : IAgentCommandResultHandler
    {
        public string CommandType => CommandTypes.SupportRevoke;

        public async Task HandleAsync(AgentCommandResultContext context, CancellationToken cancellationToken)
        {
            var payload = context.Payload.Deserialize(ProtocolJson.Default.SupportRevokePayload);
            if (payload is null) return;
            await audit.RecordAsync(new AuditEntry(Actor.Agent(context.Agent.AgentId), "support.ended_by_agent", context.Agent.TenantId,
                "support_request", payload.RequestId.ToString(), new { outcome = context.Result.Outcome, context.Result.Message }),
                context.Transaction, cancellationToken);
        }
    }

    /// <summary>support.action: allowed (and answered) or refused by the agent; the trail keeps the question and the verdict only.</summary>
    public sealed class Action(AuditLog audit) : IAgentCommandResultHandler
    {
        public string CommandType => CommandTypes.SupportAction;

        public async Task HandleAsync(AgentCommandResultContext context, CancellationToken cancellationToken)
        {
            var outcome = context.Result.Outcome switch
            {
                CommandOutcomes.Succeeded => SupportActionOutcome.Allowed,
                CommandOutcomes.Rejected => SupportActionOutcome.Refused,
                _ => SupportActionOutcome.Failed,
            };
            var row = await context.Connection.QueryFirstOrDefaultAsync<(Guid Id, Guid RequestId, string Action, string Target)?>(
                new CommandDefinition("""
                    update support_actions set outcome = @outcome, message = left(@Message, 1000), completed_at = now()
                    where command_id = @CommandId and tenant_id = @TenantId and outcome = 'pending'
                    returning id, request_id, action, target
                    """, new
                {
                    outcome = Infrastructure.Database.EnumText.ToDbText(outcome),
                    context.Result.Message,
                    context.CommandId,
                    context.Agent.TenantId
                }, context.Transaction, cancellationToken: cancellationToken));
            if (row is not { } action) return;
            await audit.RecordAsync(new AuditEntry(Actor.Agent(context.Agent.AgentId),
                outcome == SupportActionOutcome.Allowed ? "support.action_allowed" : "support.action_refused", context.Agent.TenantId,
                "support_request", action.RequestId.ToString(),
                new { actionId = action.Id, action.Action, action.Target, context.Result.Message }), context.Transaction, cancellationToken);
        }
    }

    /// <summary>support.approvers: the agent pinned the set (first use or endorsed), or refused it.</summary>
    public sealed class Approvers(AuditLog audit) : IAgentCommandResultHandler
    {
        public string CommandType => CommandTypes.SupportApprovers;

        public async Task HandleAsync(AgentCommandResultContext context, CancellationToken cancellationToken)
        {
            var payload = context.Payload.Deserialize(ProtocolJson.Default.SupportApproversPayload);
            if (payload?.Set is null) return;
            await audit.RecordAsync(new AuditEntry(Actor.Agent(context.Agent.AgentId),
                context.Result.Outcome == CommandOutcomes.Succeeded ? "support.approvers_pinned" : "support.approvers_refused",
                context.Agent.TenantId, "support_approver_set", payload.Set.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                new { context.Result.Message }), context.Transaction, cancellationToken);
        }
    }
}
