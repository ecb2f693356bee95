using System.Text;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Input;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Audit;

/// <summary>What a reader may see of the audit trail.</summary>
public abstract record AuditScope
{
    /// <summary>Platform admins read every event.</summary>
    public sealed record Everything : AuditScope;

    /// <summary>A person reads the events they caused.</summary>
    public sealed record OwnActions(string ActorId) : AuditScope;

    /// <summary>A tenant admin reads the events of a tenant and of every tenant below it (access flows down, never up).</summary>
    public sealed record TenantSubtree(Guid TenantId) : AuditScope;
}

public sealed record AuditFilter(
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? Action = null,
    string? Actor = null,
    string? ActorKind = null);

public sealed record AuditResultPage(IReadOnlyList<AuditEvent> Events, long Total);

/// <summary>Reads of the audit trail. Every query is bound to an <see cref="AuditScope"/>.</summary>
public sealed class AuditQueries(NpgsqlDataSource dataSource)
{
    public const int MaxPageSize = 500;

    public async Task<AuditResultPage> SearchAsync(AuditScope scope, AuditFilter filter, int skip, int take, CancellationToken cancellationToken)
    {
        take = Math.Clamp(take, 1, MaxPageSize);
        skip = Math.Max(0, skip);
        var (where, parameters) = BuildWhere(scope, filter);
        parameters.Add("skip", skip);
        parameters.Add("take", take);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"select count(*) from audit_events where {where}", parameters, cancellationToken: cancellationToken));
        var events = await connection.QueryAsync<AuditEvent>(new CommandDefinition($"""
            select id, occurred_at, actor_kind, actor_id, actor_name, tenant_id, action,
                   target_kind, target_id, request_id, details::text as details
            from audit_events
            where {where}
            order by occurred_at desc, id desc
            offset @skip limit @take
            """, parameters, cancellationToken: cancellationToken));
        return new AuditResultPage(events.ToList(), total);
    }

    /// <summary>
    /// Every matching event, oldest first, read row by row from the server: an export of a large
    /// trail streams to the client without ever holding the whole trail in memory.
    /// </summary>
    public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditScope scope, AuditFilter filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (where, parameters) = BuildWhere(scope, filter);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var events = connection.QueryUnbufferedAsync<AuditEvent>($"""
            select id, occurred_at, actor_kind, actor_id, actor_name, tenant_id, action,
                   target_kind, target_id, request_id, details::text as details
            from audit_events
            where {where}
            order by id
            """, parameters);
        await foreach (var auditEvent in events.WithCancellation(cancellationToken))
            yield return auditEvent;
    }

    private static (string Where, DynamicParameters Parameters) BuildWhere(AuditScope scope, AuditFilter filter)
    {
        var where = new StringBuilder("true");
        var parameters = new DynamicParameters();
        switch (scope)
        {
            case AuditScope.Everything:
                break;
            case AuditScope.OwnActions own:
                where.Append(" and actor_id = @scopeActorId");
                parameters.Add("scopeActorId", own.ActorId);
                break;
            case AuditScope.TenantSubtree subtree:
                where.Append("""
                     and tenant_id in (
                        with recursive subtree as (
                            select id from tenants where id = @scopeTenantId
                            union all
                            select t.id from tenants t join subtree s on t.parent_id = s.id
                        )
                        select id from subtree)
                    """);
                parameters.Add("scopeTenantId", subtree.TenantId);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scope), scope, "Unknown audit scope.");
        }
        // A filter text that cannot be stored matches nothing; asking PostgreSQL would be an error.
        if (!InputText.IsStorable(filter.Action) || !InputText.IsStorable(filter.Actor) || !InputText.IsStorable(filter.ActorKind))
            return (where.Append(" and false").ToString(), parameters);
        if (filter.From is { } from) { where.Append(" and occurred_at >= @from"); parameters.Add("from", from); }
        if (filter.To is { } to) { where.Append(" and occurred_at < @to"); parameters.Add("to", to); }
        if (!string.IsNullOrWhiteSpace(filter.Action))
        {
            where.Append(" and action ilike @action");
            parameters.Add("action", "%" + EscapeLike(filter.Action.Trim()) + "%");
        }
        if (!string.IsNullOrWhiteSpace(filter.Actor))
        {
            where.Append(" and (actor_name ilike @actor or actor_id = @actorExact)");
            parameters.Add("actor", "%" + EscapeLike(filter.Actor.Trim()) + "%");
            parameters.Add("actorExact", filter.Actor.Trim());
        }
        if (!string.IsNullOrWhiteSpace(filter.ActorKind))
        {
            where.Append(" and actor_kind = @actorKind");
            parameters.Add("actorKind", filter.ActorKind);
        }
        return (where.ToString(), parameters);
    }

    private static string EscapeLike(string value) =>
        value.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");

    /// <summary>
    /// Recomputes one chain and returns the id of the first event whose hash or link does not
    /// match, or null when the chain is intact.
    /// </summary>
    public async Task<long?> FindFirstBrokenLinkAsync(Guid? tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition($"""
            select id from (
                select id, hash, prev_hash,
                       lag(hash) over (order by id) as expected_prev,
                       audit_event_payload(occurred_at, actor_kind, actor_id, actor_name, tenant_id, action,
                                           target_kind, target_id, request_id, details) as payload
                from audit_events
                where {AuditLog.ChainOf(tenantId).Replace("@TenantId", "@tenantId")}
            ) chain
            where prev_hash is distinct from expected_prev
               or hash <> sha256(coalesce(expected_prev, ''::bytea) || convert_to(payload, 'UTF8'))
            order by id
            limit 1
            """, new { tenantId }, cancellationToken: cancellationToken));
    }
}
