using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.AgentReports;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Agents;

/// <summary>One agent as the Portal sees it. Online/offline is computed from <see cref="LastSeenAt"/> at read time.</summary>
public sealed record AgentSummary(
    Guid Id,
    Guid TenantId,
    Guid WorkspaceId,
    string Name,
    string Status,
    string? StatusReason,
    string KeyId,
    DateTimeOffset RegisteredAt,
    DateTimeOffset? LastSeenAt,
    DateTimeOffset? KeyRotatedAt,
    string? AgentVersion,
    string? KubernetesVersion,
    string Inventory)
{
    /// <summary>"online", "offline", "never-seen", "revoked" or "uninstalled".</summary>
    public string Health(DateTimeOffset now, TimeSpan offlineAfter) => Status != "active"
        ? Status
        : LastSeenAt is null ? "never-seen" : now - LastSeenAt.Value <= offlineAfter ? "online" : "offline";

    public ClusterInventory? ParsedInventory()
    {
        try
        {
            return Inventory is "{}" or "" ? null : JsonSerializer.Deserialize(Inventory, ProtocolJson.Default.ClusterInventory);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

public sealed record FleetOverview(int Total, int Online, int Offline, int NeverSeen, int Revoked,
    IReadOnlyList<(string Version, int Count)> Versions);

/// <summary>
/// The agents' state: heartbeats in, status out, revocation. Offline needs no background job: an
/// agent is offline when its last heartbeat is older than <see cref="AgentApiOptions.OfflineAfter"/>.
/// </summary>
public sealed class AgentRegistry(
    NpgsqlDataSource dataSource,
    AuditLog audit,
    IOptions<AgentApiOptions> options,
    TimeProvider time,
    IEnumerable<IAgentReportObserver> observers,
    ILogger<AgentRegistry> logger)
{
    private const string SummaryColumns = """
        id, tenant_id, workspace_id, name, status, status_reason, key_id, registered_at, last_seen_at, key_rotated_at,
        agent_version, kubernetes_version, inventory::text as inventory
        """;

    public TimeSpan OfflineAfter => options.Value.OfflineAfter;

    public async Task RecordHeartbeatAsync(AgentIdentity agent, HeartbeatRequest heartbeat, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // The CTE reads the row as it was before the update, so a version change can be audited.
        var previous = await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition("""
            with old as (select agent_version from agents where id = @AgentId)
            update agents set last_seen_at = @now, agent_version = left(@AgentVersion, 50),
                              kubernetes_version = left(@KubernetesVersion, 50), inventory = @Inventory::jsonb
            where id = @AgentId
            returning (select agent_version from old)
            """,
            new
            {
                agent.AgentId,
                now = time.GetUtcNow(),
                heartbeat.AgentVersion,
                heartbeat.Inventory.KubernetesVersion,
                Inventory = JsonSerializer.Serialize(heartbeat.Inventory, ProtocolJson.Default.ClusterInventory),
            }, cancellationToken: cancellationToken));
        // Heartbeats are telemetry, not changes, and are not audited; a new agent version is.
        if (previous is not null && previous != heartbeat.AgentVersion)
            await audit.RecordAsync(new AuditEntry(Actor.Agent(agent.AgentId), "agent.version_changed", agent.TenantId, "agent",
                agent.AgentId.ToString(),
                new { from = previous, to = heartbeat.AgentVersion }), cancellationToken);
        foreach (var observer in observers)
        {
            try
            {
                await observer.OnHeartbeatAsync(agent.AgentId, agent.TenantId, agent.WorkspaceId, heartbeat.Inventory, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The heartbeat itself is recorded; a part that could not be taken in is taken at the next beat.
                logger.LogError(ex, "{Observer} failed on a heartbeat of agent {AgentId}", observer.GetType().Name, agent.AgentId);
            }
        }
    }

    /// <summary>Revokes an agent: its next call is refused with the reason, and a waiting long poll ends now.</summary>
    public async Task<bool> RevokeAsync(Guid agentId, string reason, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var tenantId = await connection.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition("""
            update agents set status = 'revoked', status_reason = @reason, status_changed_at = @now,
                              access_token_hash = null, access_token_expires_at = null
            where id = @agentId and status = 'active'
            returning tenant_id
            """, new { agentId, reason, now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken));
        if (tenantId is null) return false;
        await audit.RecordAsync(new AuditEntry(actor, "agent.revoked", tenantId, "agent", agentId.ToString(), new { reason }), transaction,
            cancellationToken);
        await AgentCommandQueue.NotifyAsync(connection, agentId, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The agent's identity key as registered (SubjectPublicKeyInfo, DER), or null for an unknown agent.</summary>
    public async Task<byte[]?> IdentityKeyAsync(Guid agentId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QueryFirstOrDefaultAsync<byte[]>(new CommandDefinition(
            "select public_key from agents where id = @agentId", new { agentId }, cancellationToken: cancellationToken));
    }

    public async Task<AgentSummary?> GetAsync(Guid agentId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QueryFirstOrDefaultAsync<AgentSummary>(new CommandDefinition(
            $"select {SummaryColumns} from agents where id = @agentId", new { agentId }, cancellationToken: cancellationToken));
    }

    /// <summary>The agents of one workspace, newest first; the tenant is part of the key (isolation).</summary>
    public async Task<IReadOnlyList<AgentSummary>> ListForWorkspaceAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<AgentSummary>(new CommandDefinition(
            $"select {SummaryColumns} from agents where tenant_id = @tenantId and workspace_id = @workspaceId order by registered_at desc",
            new { tenantId, workspaceId }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>The ids of the tenant's active agents (one per workspace at most).</summary>
    public async Task<IReadOnlyList<Guid>> ActiveAgentIdsAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Guid>(new CommandDefinition(
            "select id from agents where tenant_id = @tenantId and status = 'active' order by registered_at",
            new { tenantId }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>Platform-wide, for platform admins: not tenant data, no tenant scope.</summary>
    public async Task<IReadOnlyList<AgentSummary>> ListFleetAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<AgentSummary>(new CommandDefinition(
            $"select {SummaryColumns} from agents order by last_seen_at desc nulls last, registered_at desc limit @limit",
            new { limit }, cancellationToken: cancellationToken))).ToList();
    }

    public async Task<FleetOverview> FleetOverviewAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var counts = await connection.QuerySingleAsync<(long Total, long Online, long Offline, long NeverSeen, long Revoked)>(
            new CommandDefinition("""
            select count(*),
                   count(*) filter (where status = 'active' and last_seen_at > @cutoff),
                   count(*) filter (where status = 'active' and last_seen_at <= @cutoff),
                   count(*) filter (where status = 'active' and last_seen_at is null),
                   count(*) filter (where status <> 'active')
            from agents
            """, new { cutoff = now - options.Value.OfflineAfter }, cancellationToken: cancellationToken));
        var versions = await connection.QueryAsync<(string Version, long Count)>(new CommandDefinition("""
            select coalesce(agent_version, 'unknown'), count(*) from agents where status = 'active'
            group by 1 order by 2 desc, 1 limit 20
            """, cancellationToken: cancellationToken));
        return new FleetOverview((int)counts.Total, (int)counts.Online, (int)counts.Offline, (int)counts.NeverSeen, (int)counts.Revoked,
            versions.Select(v => (v.Version, (int)v.Count)).ToList());
    }
}
