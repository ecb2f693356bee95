using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Admin;

public sealed record AdminOverview(long Users, long AuditEvents, int SchemaVersion);

/// <summary>Platform-wide counts for platform admins. Not tenant data: no tenant scope applies.</summary>
public sealed class AdminOverviewQueries(NpgsqlDataSource dataSource)
{
    public async Task<AdminOverview> GetAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<AdminOverview>(new CommandDefinition("""
            select (select count(*) from users) as users,
                   (select count(*) from audit_events) as audit_events,
                   (select coalesce(max(version), 0) from schema_migrations) as schema_version
            """, cancellationToken: cancellationToken));
    }
}
