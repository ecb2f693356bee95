using Cogrion.Jobs;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>What the admin decided on the "Leave Cogrion" page.</summary>
public sealed record OffboardingRequest(string? Confirmation, IReadOnlyDictionary<Guid, WorkspaceFate> Fates, PurgeTiming Purge);

/// <summary>
/// Starts an offboarding: checks the request (an admin of the tenant, the slug typed, a fate for every workspace, no other offboarding
/// covering any tenant of the subtree), then records the plan, the chain heads at the start, the audit event and the first step's job in one
/// transaction. A refused request changes nothing.
/// </summary>
public sealed class OffboardingCommands(NpgsqlDataSource dataSource, JobQueue queue, JobControl jobs, AuditLog audit, TimeProvider time)
{
    public async Task<CommandResult<Guid>> StartAsync(TenantContext context, OffboardingRequest request, Actor actor,
        CancellationToken cancellationToken)
    {
        if (!context.IsAdmin || context.Source == TenantAccessSource.PlatformAdmin)
            return CommandResult<Guid>.Invalid("role", $"Only an admin of {context.Tenant.Name} can offboard it.");
        if (!string.Equals(request.Confirmation?.Trim(), context.Slug, StringComparison.Ordinal))
            return CommandResult<Guid>.Invalid("confirmation", $"Type the tenant's slug, {context.Slug}, to confirm.");

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One start at a time, platform-wide: the overlap check below must not race another start in the same tree.
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtextextended('offboarding:start', 0))",
            transaction: transaction, cancellationToken: cancellationToken));
        var plan = await OffboardingStore.PlanAsync(connection, transaction, context.TenantId, cancellationToken);
        if (plan is null) return CommandResult<Guid>.NotFound();

        var ancestorsAndSubtree = await AncestorsAsync(connection, transaction, context.TenantId, cancellationToken);
        ancestorsAndSubtree.AddRange(plan.TenantIds);
        var running = await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition("""
            select coalesce(plan->'tenants'->0->>'slug', tenant_id::text) from offboardings
            where tenant_ids && @ids and status in ('running', 'awaiting_purge') limit 1
            """, new { ids = ancestorsAndSubtree.ToArray() }, transaction, cancellationToken: cancellationToken));
        if (running is not null)
            return CommandResult<Guid>.Invalid("tenant", $"An offboarding of {running} is already under way; it covers this tenant. Follow it on " +
                "its page instead of starting another.");

        var errors = new FieldErrors();
        var workspaces = new List<PlannedWorkspace>();
        foreach (var workspace in plan.Workspaces)
        {
            if (!request.Fates.TryGetValue(workspace.Id, out var fate))
            {
                errors.Add("workspaces", $"Choose keep or destroy for workspace {workspace.Name}.");
                continue;
            }
            workspaces.Add(workspace with { Fate = fate });
        }
        if (request.Fates.Keys.Except(plan.Workspaces.Select(w => w.Id)).Any())
            errors.Add("workspaces", "A choice names a workspace this tenant does not have (any more): reload the page.");
        if (!errors.IsEmpty) return CommandResult<Guid>.Invalid(errors);

        var decided = plan with { Workspaces = workspaces, Purge = request.Purge };
        var id = Guid.CreateVersion7();
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into offboardings (id, tenant_id, tenant_ids, status, step, requested_by, requested_by_name, started_at, plan, chain_heads_start)
            values (@id, @tenantId, @tenantIds, 'running', @step, @requestedBy, @requestedByName, @now, @plan::jsonb, '{}'::jsonb)
            """,
            new
            {
                id,
                tenantId = context.TenantId,
                tenantIds = plan.TenantIds.ToArray(),
                step = OffboardingStep.Export.ToDbText(),
                requestedBy = context.UserId,
                requestedByName = actor.Name ?? actor.Id,
                now = time.GetUtcNow(),
                plan = OffboardingStore.ToJson(decided),
            }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "offboarding.started", context.TenantId, "offboarding", id.ToString(), new
        {
            tenants = plan.Tenants.Select(t => t.Slug),
            destroy = workspaces.Where(w => w.Fate == WorkspaceFate.Destroy).Select(w => w.Name),
            keep = workspaces.Where(w => w.Fate == WorkspaceFate.Keep).Select(w => w.Name),
            purge = request.Purge.ToDbText(),
        }), transaction, cancellationToken);
        // The heads at the start include the start itself: the bundle exported next holds the trail up to here at least.
        var heads = await OffboardingStore.ChainHeadsAsync(connection, transaction, plan.TenantIds, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("update offboardings set chain_heads_start = @heads::jsonb where id = @id",
            new { id, heads = OffboardingStore.ToJson(heads) }, transaction, cancellationToken: cancellationToken));
        await OffboardingJobs.EnqueueAsync(queue, transaction, id, context.TenantId, OffboardingStep.Export, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<Guid>.Ok(id);
    }

    /// <summary>
    /// A platform admin purges an offboarded tenant's metadata now instead of at the end of the retention (the tenant asked, or a test).
    /// Only an offboarding awaiting its purge; the scheduled purge job is cancelled and one for now takes its place.
    /// </summary>
    public async Task<CommandResult<Guid>> PurgeNowAsync(Guid id, Actor admin, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(Guid TenantId, string Status, long? PurgeJobId)?>(new CommandDefinition(
            "select tenant_id, status, purge_job_id from offboardings where id = @id for update", new { id }, transaction,
            cancellationToken: cancellationToken));
        if (row is not { } found) return CommandResult<Guid>.NotFound();
        if (found.Status != "awaiting_purge")
            return CommandResult<Guid>.Invalid("status",
                "Only an offboarding that has issued its certificate and awaits its purge can be purged now.");
        if (found.PurgeJobId is { } scheduled) await jobs.RequestCancelAsync(transaction, scheduled, cancellationToken);
        var now = time.GetUtcNow();
        var job = await OffboardingJobs.EnqueueAsync(queue, transaction, id, found.TenantId, OffboardingStep.Purge, null, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("update offboardings set purge_after = @now, purge_job_id = @job where id = @id",
            new { id, now, job }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(admin, "offboarding.purge_requested", null, "offboarding", id.ToString(),
            new { tenant = found.TenantId }),
            transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<Guid>.Ok(id);
    }

    private static async Task<List<Guid>> AncestorsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId,
        CancellationToken cancellationToken) =>
        (await connection.QueryAsync<Guid>(new CommandDefinition("""
            with recursive up as (
                select parent_id as id from tenants where id = @tenantId and parent_id is not null
                union all
                select t.parent_id from tenants t join up on t.id = up.id where t.parent_id is not null
            )
            select id from up
            """, new { tenantId }, transaction, cancellationToken: cancellationToken))).ToList();
}
