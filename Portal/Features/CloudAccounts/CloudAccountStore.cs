using Cogrion.Portal.Infrastructure.Database;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>Reads of a tenant's cloud accounts. Every query takes the tenant: another tenant's account is simply not found.</summary>
public sealed partial class CloudAccountStore(NpgsqlDataSource dataSource)
{
    private const string Columns = """
        id, tenant_id, provider::text as provider, name, account_ref, role_arn, external_id, status::text as status,
        status_reason, verified_identity, verified_at, created_at
        """;

    private sealed record Row(
        Guid Id, Guid TenantId, string Provider, string Name, string AccountRef, string RoleArn, string ExternalId,
        string Status, string? StatusReason, string? VerifiedIdentity, DateTimeOffset? VerifiedAt, DateTimeOffset CreatedAt)
    {
        public CloudAccount ToAccount() => new(Id, TenantId, CloudProviderText.Parse(Provider), Name, AccountRef, RoleArn, ExternalId,
            EnumText.Parse<CloudAccountStatus>(Status), StatusReason, VerifiedIdentity, VerifiedAt, CreatedAt);
    }

    public async Task<IReadOnlyList<CloudAccount>> ListAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from cloud_accounts where tenant_id = @tenantId order by created_at",
            new { tenantId }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToAccount()).ToList();
    }

    public async Task<CloudAccount?> FindAsync(Guid tenantId, Guid accountId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await FindAsync(connection, null, tenantId, accountId, cancellationToken);
    }

    /// <summary>Inside a caller's transaction (e.g. creating a workspace in a verified account).</summary>
    public static async Task<CloudAccount?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId, Guid accountId,
        CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns} from cloud_accounts where tenant_id = @tenantId and id = @accountId",
            new { tenantId, accountId }, transaction, cancellationToken: cancellationToken));
        return row?.ToAccount();
    }
}
