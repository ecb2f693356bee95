using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>
/// Step 7, at <c>purge_after</c>: the tenant's metadata leaves the Portal. In one transaction: each chain's events become tombstones (id,
/// chain, the two hashes) and the events go, through the audit table's one purge path (migration 0035); every row of every table holding
/// the subtree's <c>tenant_id</c> goes; the tenants go, leaves first; the offboarding row keeps only ids, hashes and the certificate's
/// digest; and the platform chain records the purge. Other tenants' chains are untouched (one chain per tenant), and the tombstones let
/// anyone holding the bundle show it is the trail the Portal kept. Idempotent: a second run finds nothing left to delete.
/// </summary>
public sealed class PurgeStep(NpgsqlDataSource dataSource, AuditLog audit, TimeProvider time, ILogger<PurgeStep> logger) : IOffboardingStep
{
    /// <summary>Tables that hold a tenant_id but are not the tenant's data to purge here.</summary>
    private static readonly string[] Kept = ["audit_events", "audit_event_tombstones", "offboardings", "jobs"];

    public OffboardingStep Step => OffboardingStep.Purge;

    public async Task<StepOutcome> RunAsync(OffboardingRecord offboarding, OffboardingPlan plan, Actor actor, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        var ids = plan.TenantIds.ToArray();
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        long tombstoned = 0;
        foreach (var tenant in plan.TenantIds)
        {
            tombstoned += await connection.ExecuteAsync(new CommandDefinition("""
                insert into audit_event_tombstones (id, tenant_id, prev_hash, hash, purged_at)
                select id, tenant_id, prev_hash, hash, @now from audit_events where tenant_id = @tenant
                on conflict (id) do nothing
                """, new { tenant, now }, transaction, cancellationToken: cancellationToken));
            // The trigger lets this one session delete this one tenant's tombstoned events, and nothing else.
            await connection.ExecuteAsync(new CommandDefinition("select set_config('cogrion.audit_purge_tenant', @tenant, true)",
                new { tenant = tenant.ToString() }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("delete from audit_events where tenant_id = @tenant", new { tenant }, transaction,
                cancellationToken: cancellationToken));
        }
        await connection.ExecuteAsync(new CommandDefinition("select set_config('cogrion.audit_purge_tenant', '', true)",
            transaction: transaction, cancellationToken: cancellationToken));

        var rows = await DeleteTenantRowsAsync(connection, transaction, ids, cancellationToken);
        rows += await connection.ExecuteAsync(new CommandDefinition(
            "delete from jobs where tenant_id = any(@ids) and id <> @current", new { ids, current = context.JobId }, transaction,
            cancellationToken: cancellationToken));
        foreach (var tenant in plan.Tenants.OrderByDescending(t => t.Depth))
        {
            rows += await connection.ExecuteAsync(new CommandDefinition("delete from tenants where id = @id", new { id = tenant.Id }, transaction,
                cancellationToken: cancellationToken));
        }
        await connection.ExecuteAsync(new CommandDefinition("""
            update offboardings
            set status = 'purged', purged_at = @now, step = 'done', plan = null, progress = '{}'::jsonb, bundle = null, certificate = null,
                requested_by = null, requested_by_name = null
            where id = @id
            """, new { id = offboarding.Id, now }, transaction, cancellationToken: cancellationToken));
        // The platform chain: the purged chains are gone, the record that they were purged is not.
        await audit.RecordAsync(new AuditEntry(Actor.System("offboarding"), "offboarding.purged", null, "offboarding", offboarding.Id.ToString(),
            new { tenants = ids, events_tombstoned = tombstoned, rows_deleted = rows, chain_heads_end = offboarding.ChainHeadsEnd }),
            transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Purged offboarding {OffboardingId}: {Rows} rows, {Events} audit events tombstoned", offboarding.Id, rows, tombstoned);
        return StepOutcome.Finished(
            [$"Purged {rows} row(s) of {ids.Length} tenant(s); {tombstoned} audit event(s) kept as tombstones (hashes only)."]);
    }

    /// <summary>
    /// Every table with a tenant_id column (found in the catalog, so a table added later is purged too). Foreign keys decide the order:
    /// a delete that a reference still blocks is rolled back to its savepoint and tried again after the others.
    /// </summary>
    private static async Task<long> DeleteTenantRowsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] ids,
        CancellationToken cancellationToken)
    {
        var tables = (await connection.QueryAsync<string>(new CommandDefinition("""
            select c.table_name from information_schema.columns c join information_schema.tables t
              on t.table_schema = c.table_schema and t.table_name = c.table_name
            where c.table_schema = current_schema() and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'
            order by c.table_name
            """, transaction: transaction, cancellationToken: cancellationToken))).Except(Kept).ToList();
        long deleted = 0;
        for (var pass = 0; tables.Count > 0; pass++)
        {
            var blocked = new List<string>();
            foreach (var table in tables)
            {
                await transaction.SaveAsync("purge_table", cancellationToken);
                try
                {
                    deleted += await connection.ExecuteAsync(new CommandDefinition($"delete from \"{table}\" where tenant_id = any(@ids)",
                        new { ids },
                        transaction, cancellationToken: cancellationToken));
                    await transaction.ReleaseAsync("purge_table", cancellationToken);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation && pass < 10)
                {
                    await transaction.RollbackAsync("purge_table", cancellationToken);
                    blocked.Add(table);
                }
            }
            tables = blocked;
        }
        return deleted;
    }
}
