using Cogrion.Jobs;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication.Sessions;
using Cogrion.Portal.Infrastructure.Offboarding;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>
/// Step 4: nothing of the tenant can act any more. Agents still active are revoked (their next call is refused), unused bootstrap tokens
/// deleted, open invitations revoked, every membership in the subtree removed (so no member sees the tenants again), and the sessions of
/// members who belong to no other tenant ended; other kinds of access (support grants) through <see cref="IOffboardingRevoker"/>. The person
/// who started the offboarding keeps their session, to collect the certificate; their membership goes like everyone's. Idempotent.
/// </summary>
public sealed class RevokeStep(
    NpgsqlDataSource dataSource,
    AgentRegistry registry,
    SessionRevocations sessions,
    AuditLog audit,
    IEnumerable<IOffboardingRevoker> revokers,
    TimeProvider time) : IOffboardingStep
{
    public OffboardingStep Step => OffboardingStep.Revoke;

    public async Task<StepOutcome> RunAsync(OffboardingRecord offboarding, OffboardingPlan plan, Actor actor, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        var ids = plan.TenantIds.ToArray();
        var done = new List<string>();

        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            var active = await connection.QueryAsync<Guid>(new CommandDefinition(
                "select id from agents where tenant_id = any(@ids) and status = 'active'", new { ids }, cancellationToken: cancellationToken));
            var revoked = 0;
            foreach (var agent in active)
                if (await registry.RevokeAsync(agent, $"Tenant {plan.Root.Slug} left Cogrion (offboarding {offboarding.Id}).", actor,
                    cancellationToken))
                    revoked++;
            done.Add($"Revoked {revoked} agent credential(s) (uninstalled agents' tokens were already dropped).");
        }

        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var now = time.GetUtcNow();
            var tokens = await connection.ExecuteAsync(new CommandDefinition(
                "delete from agent_bootstrap_tokens where tenant_id = any(@ids) and used_at is null", new { ids }, transaction,
                cancellationToken: cancellationToken));
            var invitations = await connection.ExecuteAsync(new CommandDefinition("""
                update tenant_invitations set revoked_at = @now
                where tenant_id = any(@ids) and accepted_at is null and revoked_at is null
                """, new { ids, now }, transaction, cancellationToken: cancellationToken));
            // Who belongs to no tenant outside the subtree once these memberships go: their sessions end with them.
            var alone = (await connection.QueryAsync<(Guid Id, string Subject)>(new CommandDefinition("""
                select distinct u.id, u.subject from tenant_memberships m join users u on u.id = m.user_id
                where m.tenant_id = any(@ids)
                  and not exists (select 1 from tenant_memberships o where o.user_id = u.id and not (o.tenant_id = any(@ids)))
                """, new { ids }, transaction, cancellationToken: cancellationToken))).ToList();
            var memberships = await connection.ExecuteAsync(new CommandDefinition(
                "delete from tenant_memberships where tenant_id = any(@ids)", new { ids }, transaction, cancellationToken: cancellationToken));
            long ended = 0;
            foreach (var user in alone.Where(u => u.Id != offboarding.RequestedBy))
                ended += await sessions.EndAllForSubjectAsync(user.Subject, transaction, cancellationToken);
            var others = new List<string>();
            foreach (var revoker in revokers) others.AddRange(await revoker.RevokeAsync(plan.TenantIds, actor, transaction, cancellationToken));

            await audit.RecordAsync(new AuditEntry(actor, "offboarding.access_revoked", plan.Root.Id, "offboarding", offboarding.Id.ToString(), new
            {
                bootstrap_tokens_deleted = tokens,
                invitations_revoked = invitations,
                memberships_removed = memberships,
                users_signed_out = alone.Count(u => u.Id != offboarding.RequestedBy),
                sessions_ended = ended,
                other = others,
            }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            done.Add($"Deleted {tokens} unused bootstrap token(s) and revoked {invitations} open invitation(s).");
            done.Add($"Removed {memberships} membership(s); ended {ended} session(s) of {alone.Count(u => u.Id != offboarding.RequestedBy)} " +
                "member(s) who belong to no other tenant.");
            done.AddRange(others);
            if (!revokers.Any()) done.Add("Support grants: none to revoke (no support access is installed).");
        }
        return StepOutcome.Finished(done);
    }
}
