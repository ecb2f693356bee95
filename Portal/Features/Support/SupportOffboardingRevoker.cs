using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Offboarding;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Support;

/// <summary>
/// A leaving tenant's support access ends with it: open requests are denied, live grants revoked, and what
/// support read is forgotten, in the offboarding's revocation transaction (each one audited). The agents are
/// not sent a revoke: the same offboarding uninstalls them and revokes their credentials, which ends every
/// grant they hold. Idempotent: a second run finds nothing open.
/// </summary>
public sealed class SupportOffboardingRevoker(AuditLog audit, TimeProvider time) : IOffboardingRevoker
{
    public async Task<IReadOnlyList<string>> RevokeAsync(IReadOnlyList<Guid> tenantIds, Actor actor, NpgsqlTransaction transaction,
        CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var now = time.GetUtcNow();
        var ended = (await connection.QueryAsync<(Guid Id, Guid TenantId, string Status)>(new CommandDefinition("""
            update support_requests r
            set status = case r.status when 'pending' then 'denied' else 'revoked' end,
                decided_by = coalesce(r.decided_by, @by), decided_at = @now
            from (select id, status from support_requests where tenant_id = any(@tenantIds) and status in ('pending', 'approved') for update) old
            where r.id = old.id
            returning r.id, r.tenant_id, old.status
            """, new { tenantIds = tenantIds.ToArray(), by = actor.Name ?? actor.Id, now }, transaction,
            cancellationToken: cancellationToken))).ToList();
        foreach (var (id, tenantId, status) in ended)
            await audit.RecordAsync(new AuditEntry(actor, status == "pending" ? "support.denied" : "support.revoked", tenantId, "support_request",
                id.ToString(), new { reason = "the tenant left Cogrion" }), transaction, cancellationToken);
        var forgotten = await connection.ExecuteAsync(new CommandDefinition("""
            update agent_commands set result_output = null
            where tenant_id = any(@tenantIds) and result_output is not null
              and id in (select command_id from support_actions where tenant_id = any(@tenantIds) and command_id is not null)
            """, new { tenantIds = tenantIds.ToArray() }, transaction, cancellationToken: cancellationToken));
        var grants = ended.Count(e => e.Status == "approved");
        return [$"Support access: revoked {grants} grant(s), closed {ended.Count - grants} open request(s), forgot {forgotten} support read(s)."];
    }
}
