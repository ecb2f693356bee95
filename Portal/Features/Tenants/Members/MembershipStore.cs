using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Tenants.Members;

public sealed record Member(Guid UserId, string Username, string? Email, string? DisplayName, TenantRole Role, DateTimeOffset JoinedAt);

/// <summary>
/// The people of one tenant and their roles. Every query takes the tenant id: a user id that is
/// not a member of that tenant is "not found", whatever it is elsewhere. A tenant always keeps at
/// least one admin of its own, so nobody can lock everyone out by removing or demoting the last one.
/// </summary>
public sealed class MembershipStore(NpgsqlDataSource dataSource, AuditLog audit)
{
    private sealed record Row(Guid UserId, string Username, string? Email, string? DisplayName, string Role, DateTimeOffset JoinedAt)
    {
        public Member ToMember() => new(UserId, Username, Email, DisplayName, TenantRoles.Parse(Role), JoinedAt);
    }

    private const string LastAdminMessage = "A tenant needs at least one admin: make someone else admin first.";

    public async Task<IReadOnlyList<Member>> ListAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition("""
            select u.id as user_id, u.username, u.email, u.display_name, m.role::text as role, m.created_at as joined_at
            from tenant_memberships m join users u on u.id = m.user_id
            where m.tenant_id = @tenantId
            order by m.role desc, u.username
            """, new { tenantId }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToMember()).ToList();
    }

    public async Task<CommandResult<Member>> ChangeRoleAsync(Guid tenantId, Guid userId, TenantRole role, Actor actor,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var admins = await LockAdminsAsync(connection, transaction, tenantId, cancellationToken);
        var member = await LockAsync(connection, transaction, tenantId, userId, cancellationToken);
        if (member is null) return CommandResult<Member>.NotFound();
        if (member.Role == role) return CommandResult<Member>.Ok(member);
        if (member.Role == TenantRole.Admin && admins.All(id => id == userId))
            return CommandResult<Member>.Invalid("role", LastAdminMessage);

        await connection.ExecuteAsync(new CommandDefinition("""
            update tenant_memberships set role = @role::tenant_role where tenant_id = @tenantId and user_id = @userId
            """, new { tenantId, userId, role = role.ToText() }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "membership.role_changed", tenantId, "user", userId.ToString(),
            new { username = member.Username, from = member.Role.ToText(), to = role.ToText() }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<Member>.Ok(member with { Role = role });
    }

    public async Task<CommandResult<Member>> RemoveAsync(Guid tenantId, Guid userId, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var admins = await LockAdminsAsync(connection, transaction, tenantId, cancellationToken);
        var member = await LockAsync(connection, transaction, tenantId, userId, cancellationToken);
        if (member is null) return CommandResult<Member>.NotFound();
        if (member.Role == TenantRole.Admin && admins.All(id => id == userId))
            return CommandResult<Member>.Invalid("member", LastAdminMessage);

        await connection.ExecuteAsync(new CommandDefinition(
            "delete from tenant_memberships where tenant_id = @tenantId and user_id = @userId",
            new { tenantId, userId }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "membership.removed", tenantId, "user", userId.ToString(),
            new { username = member.Username, role = member.Role.ToText() }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<Member>.Ok(member);
    }

    private static async Task<Member?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, Guid userId,
        CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition("""
            select u.id as user_id, u.username, u.email, u.display_name, m.role::text as role, m.created_at as joined_at
            from tenant_memberships m join users u on u.id = m.user_id
            where m.tenant_id = @tenantId and m.user_id = @userId
            for update of m
            """, new { tenantId, userId }, transaction, cancellationToken: cancellationToken));
        return row?.ToMember();
    }

    /// <summary>
    /// Locks the tenant's admin rows (always first, always in the same order, so two changes cannot
    /// deadlock): two admins demoting each other at the same moment take turns, and the second sees
    /// the first's change and is refused.
    /// </summary>
    private static async Task<IReadOnlyList<Guid>> LockAdminsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId,
        CancellationToken cancellationToken)
    {
        var admins = await connection.QueryAsync<Guid>(new CommandDefinition("""
            select user_id from tenant_memberships where tenant_id = @tenantId and role = 'admin' order by user_id for update
            """, new { tenantId }, transaction, cancellationToken: cancellationToken));
        return admins.ToList();
    }
}
