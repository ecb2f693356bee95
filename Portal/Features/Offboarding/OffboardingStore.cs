using System.Text.Json;
using Cogrion.Portal.Infrastructure.Database;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>
/// Reads what an offboarding covers and keeps the offboarding's own row. Every query of tenant data takes the
/// tenant (or the subtree found from it) as a parameter.
/// </summary>
public sealed class OffboardingStore(NpgsqlDataSource dataSource)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The tenant and every tenant under it, root first; then its members, workspaces (not destroyed) with apps, accounts and
    /// agents.</summary>
    public async Task<OffboardingPlan?> PlanAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await PlanAsync(connection, null, tenantId, cancellationToken);
    }

    internal static async Task<OffboardingPlan?> PlanAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId,
        CancellationToken cancellationToken)
    {
        var tenants = (await connection.QueryAsync<PlannedTenant>(new CommandDefinition("""
            with recursive subtree as (
                select id, parent_id, slug, name, 0 as depth from tenants where id = @tenantId
                union all
                select t.id, t.parent_id, t.slug, t.name, s.depth + 1 from tenants t join subtree s on t.parent_id = s.id
            )
            select id, parent_id as ParentId, slug, name, depth from subtree order by depth, slug
            """, new { tenantId }, transaction, cancellationToken: cancellationToken))).ToList();
        if (tenants.Count == 0) return null;
        var ids = tenants.Select(t => t.Id).ToArray();

        var members = (await connection.QueryAsync<PlannedMember>(new CommandDefinition("""
            select m.tenant_id as TenantId, u.id as UserId, u.username, u.email, m.role::text as Role
            from tenant_memberships m join users u on u.id = m.user_id
            where m.tenant_id = any(@ids) order by u.username, m.tenant_id
            """, new { ids }, transaction, cancellationToken: cancellationToken))).ToList();

        var apps = (await connection.QueryAsync<(Guid WorkspaceId, string App, string Namespace, string ChartVersion)>(new CommandDefinition("""
            select workspace_id, app, namespace, chart_version from workspace_apps
            where tenant_id = any(@ids) and desired_state <> 'removed' order by app
            """, new { ids }, transaction, cancellationToken: cancellationToken))).ToLookup(a => a.WorkspaceId);

        var workspaces = (await connection.QueryAsync<(Guid Id, Guid TenantId, string Name, string Status, string Provider, Guid AccountId,
            string AccountName)>(new CommandDefinition("""
            select w.id, w.tenant_id, w.name, w.status::text, w.provider::text, w.cloud_account_id, c.name
            from workspaces w join cloud_accounts c on c.id = w.cloud_account_id
            where w.tenant_id = any(@ids) and w.status <> 'destroyed' order by w.name
            """, new { ids }, transaction, cancellationToken: cancellationToken)))
            .Select(w => new PlannedWorkspace(w.Id, w.TenantId, w.Name, w.Status, w.Provider, w.AccountId, w.AccountName,
                apps[w.Id].Select(a => new PlannedApp(a.App, a.Namespace, a.ChartVersion)).ToList()))
            .ToList();

        var accounts = (await connection.QueryAsync<PlannedAccount>(new CommandDefinition("""
            select id, tenant_id as TenantId, provider::text as Provider, name, account_ref as AccountRef, role_arn as RoleArn
            from cloud_accounts where tenant_id = any(@ids) order by name
            """, new { ids }, transaction, cancellationToken: cancellationToken))).ToList();

        var agents = (await connection.QueryAsync<PlannedAgent>(new CommandDefinition("""
            select id, tenant_id as TenantId, workspace_id as WorkspaceId, name, status, last_seen_at as LastSeenAt
            from agents where tenant_id = any(@ids) and status = 'active' order by name
            """, new { ids }, transaction, cancellationToken: cancellationToken))).ToList();

        return new OffboardingPlan(tenants, members, workspaces, accounts, agents);
    }

    /// <summary>The newest event's hash of each chain (hex), null for a chain with no event yet.</summary>
    internal static async Task<Dictionary<Guid, string?>> ChainHeadsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        IReadOnlyList<Guid> tenantIds, CancellationToken cancellationToken)
    {
        var heads = tenantIds.ToDictionary(id => id, _ => (string?)null);
        // One index probe per chain (audit_events_chain): "the newest of this tenant".
        var found = await connection.QueryAsync<(Guid TenantId, string Hash)>(new CommandDefinition("""
            select t.id, encode(h.hash, 'hex')
            from unnest(@ids) as t (id)
            cross join lateral (select hash from audit_events e where e.tenant_id = t.id order by e.id desc limit 1) h
            """, new { ids = tenantIds.ToArray() }, transaction, cancellationToken: cancellationToken));
        foreach (var (tenant, hash) in found) heads[tenant] = hash;
        return heads;
    }

    public Task<OffboardingRecord?> FindAsync(Guid id, CancellationToken cancellationToken) => FindAsync(id, dataSource, cancellationToken);

    internal static async Task<OffboardingRecord?> FindAsync(Guid id, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await FindAsync(connection, null, id, cancellationToken);
    }

    /// <summary>The offboarding of this tenant (or of an ancestor covering it) that is under way or awaiting its purge.</summary>
    public async Task<OffboardingRecord?> FindActiveCoveringAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var id = await connection.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition("""
            select id from offboardings where @tenantId = any(tenant_ids) and status in ('running', 'awaiting_purge')
            order by started_at desc limit 1
            """, new { tenantId }, cancellationToken: cancellationToken));
        return id is { } found ? await FindAsync(connection, null, found, cancellationToken) : null;
    }

    /// <summary>Offboardings whose metadata is still in the Portal, for the platform admins.</summary>
    public async Task<IReadOnlyList<OffboardingRecord>> PendingPurgesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var ids = await connection.QueryAsync<Guid>(new CommandDefinition(
            "select id from offboardings where status in ('running', 'awaiting_purge', 'failed') order by started_at",
            cancellationToken: cancellationToken));
        var list = new List<OffboardingRecord>();
        foreach (var id in ids)
            if (await FindAsync(connection, null, id, cancellationToken) is { } record) list.Add(record);
        return list;
    }

    internal static async Task<OffboardingRecord?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid id,
        CancellationToken cancellationToken, bool forUpdate = false)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            select id, tenant_id as TenantId, tenant_ids as TenantIds, status, step, requested_by as RequestedBy,
                   requested_by_name as RequestedByName, started_at as StartedAt, finished_at as FinishedAt, plan::text as Plan,
                   progress::text as Progress, chain_heads_start::text as ChainHeadsStart, chain_heads_end::text as ChainHeadsEnd,
                   bundle is not null as HasBundle, encode(bundle_sha256, 'hex') as BundleSha256, certificate, purge_after as PurgeAfter,
                   purged_at as PurgedAt, last_error as LastError, role_checks::text as RoleChecks
            from offboardings where id = @id {(forUpdate ? "for update" : "")}
            """, new { id }, transaction, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    internal static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);

    // Properties rather than a constructor: Dapper reports a uuid[] column as System.Array, which no constructor signature matches.
    private sealed class Row
    {
        public Guid Id { get; init; }
        public Guid TenantId { get; init; }
        public Guid[] TenantIds { get; init; } = [];
        public string Status { get; init; } = "";
        public string Step { get; init; } = "";
        public Guid? RequestedBy { get; init; }
        public string? RequestedByName { get; init; }
        public DateTime StartedAt { get; init; }
        public DateTime? FinishedAt { get; init; }
        public string? Plan { get; init; }
        public string Progress { get; init; } = "{}";
        public string ChainHeadsStart { get; init; } = "{}";
        public string? ChainHeadsEnd { get; init; }
        public bool HasBundle { get; init; }
        public string? BundleSha256 { get; init; }
        public string? Certificate { get; init; }
        public DateTime? PurgeAfter { get; init; }
        public DateTime? PurgedAt { get; init; }
        public string? LastError { get; init; }
        public string RoleChecks { get; init; } = "{}";

        public OffboardingRecord ToRecord() => new(Id, TenantId, TenantIds, EnumText.Parse<OffboardingStatus>(Status),
            EnumText.Parse<OffboardingStep>(Step), RequestedBy, RequestedByName, Utc(StartedAt), FinishedAt is { } f ? Utc(f) : null,
            Plan is null ? null : JsonSerializer.Deserialize<OffboardingPlan>(Plan, Json),
            JsonSerializer.Deserialize<Dictionary<OffboardingStep, StepReport>>(Progress, Json)!,
            JsonSerializer.Deserialize<Dictionary<Guid, string?>>(ChainHeadsStart, Json)!,
            ChainHeadsEnd is null ? null : JsonSerializer.Deserialize<Dictionary<Guid, string?>>(ChainHeadsEnd, Json),
            HasBundle, BundleSha256, Certificate, PurgeAfter is { } p ? Utc(p) : null, PurgedAt is { } d ? Utc(d) : null, LastError)
        {
            RoleChecks = JsonSerializer.Deserialize<Dictionary<Guid, RoleCheck>>(RoleChecks, Json)!,
        };

        private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
    }
}
