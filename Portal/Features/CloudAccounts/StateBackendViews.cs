using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>A state backend as people see it: where, which bucket, and whether workspaces can use it yet.</summary>
public sealed record StateBackendView(string Region, string Bucket, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ReadyAt)
{
    public bool IsReady => Status == "ready";
}

/// <summary>
/// The state backends of a cloud account (ADR 0041), as its page and the workspace wizard show them.
/// A workspace's first run in a region creates one (Workspaces/Runs/StateBackends); the account owns the list.
/// </summary>
public sealed class StateBackendViews(NpgsqlDataSource dataSource)
{
    /// <summary>The state backends of one of a tenant's cloud accounts, by region.</summary>
    public async Task<IReadOnlyList<StateBackendView>> ListAsync(Guid tenantId, Guid cloudAccountId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<StateBackendView>(new CommandDefinition("""
            select region, bucket, status, created_at, ready_at from state_backends
            where tenant_id = @tenantId and cloud_account_id = @cloudAccountId
            order by region
            """, new { tenantId, cloudAccountId }, cancellationToken: cancellationToken))).AsList();
    }
}
