using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Tenants.Invitations;

/// <summary>
/// Invitations of one tenant: invite, resend (a fresh expiry), revoke, list. The Portal sends no
/// mail: the admin passes on the sign-in link the members page shows. An invitation is accepted by
/// <see cref="InvitationBinder"/> when the invited address signs in with a verified e-mail.
/// Every query takes the tenant id, so an invitation id of another tenant is simply not found.
/// </summary>
public sealed class InvitationStore(NpgsqlDataSource dataSource, AuditLog audit, TimeProvider time, IOptions<TenantOptions> options)
{
    private const string Columns = """
        i.id, i.tenant_id, i.email, i.role::text as role, i.created_at, i.sent_at, i.expires_at,
        i.accepted_at, i.revoked_at, inviter.username as invited_by, accepter.username as accepted_by
        """;

    private const string From = """
        from tenant_invitations i
        left join users inviter on inviter.id = i.invited_by
        left join users accepter on accepter.id = i.accepted_by
        """;

    private sealed record Row(Guid Id, Guid TenantId, string Email, string Role, DateTimeOffset CreatedAt, DateTimeOffset SentAt,
        DateTimeOffset ExpiresAt, DateTimeOffset? AcceptedAt, DateTimeOffset? RevokedAt, string? InvitedBy, string? AcceptedBy)
    {
        public Invitation ToInvitation()
            => new(Id, TenantId, Email, TenantRoles.Parse(Role), CreatedAt, SentAt, ExpiresAt, AcceptedAt, RevokedAt, InvitedBy, AcceptedBy);
    }

    public async Task<IReadOnlyList<Invitation>> ListAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition($"""
            select {Columns} {From}
            where i.tenant_id = @tenantId
            order by (i.accepted_at is null and i.revoked_at is null) desc, i.created_at desc
            """, new { tenantId }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToInvitation()).ToList();
    }

    public async Task<CommandResult<Invitation>> InviteAsync(Guid tenantId, string? email, string? role, Guid inviterId, Actor actor,
        CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var address = EmailAddresses.Normalise(email);
        if (address is null) errors.Add("email", "Enter one e-mail address, such as 'dana@example.com'.");
        if (!TenantRoles.TryParse(role, out var parsedRole)) errors.Add("role", TenantRoles.ParseError);
        if (!errors.IsEmpty) return CommandResult<Invitation>.Invalid(errors);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var alreadyMember = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
            select exists (
                select 1 from tenant_memberships m join users u on u.id = m.user_id
                where m.tenant_id = @tenantId and lower(u.email) = @address)
            """, new { tenantId, address }, transaction, cancellationToken: cancellationToken));
        if (alreadyMember) return CommandResult<Invitation>.Invalid("email",
            $"{address} is already a member of this tenant; change their role instead.");

        var now = time.GetUtcNow();
        try
        {
            var id = await connection.ExecuteScalarAsync<Guid>(new CommandDefinition("""
                insert into tenant_invitations (tenant_id, email, role, invited_by, created_at, sent_at, expires_at)
                values (@tenantId, @address, @role::tenant_role, @inviterId, @now, @now, @expiresAt)
                returning id
                """, new { tenantId, address, role = parsedRole.ToText(), inviterId, now, expiresAt = now + options.Value.InvitationLifetime },
                transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(actor, "invitation.created", tenantId, "invitation", id.ToString(),
                new { email = address, role = parsedRole.ToText(), expiresAt = now + options.Value.InvitationLifetime }), transaction,
                    cancellationToken);
            var invitation = await FindAsync(connection, transaction, tenantId, id, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return CommandResult<Invitation>.Ok(invitation!);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "tenant_invitations_one_open")
        {
            return CommandResult<Invitation>.Invalid("email", $"{address} is already invited; resend or revoke that invitation.");
        }
    }

    /// <summary>Gives an open invitation a fresh expiry (also revives an expired one).</summary>
    public Task<CommandResult<Invitation>> ResendAsync(Guid tenantId, Guid invitationId, Actor actor, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return ChangeOpenAsync(tenantId, invitationId, actor, "invitation.resent", """
            update tenant_invitations set sent_at = @now, expires_at = @expiresAt
            where tenant_id = @tenantId and id = @invitationId and accepted_at is null and revoked_at is null
            """, new { tenantId, invitationId, now, expiresAt = now + options.Value.InvitationLifetime }, cancellationToken);
    }

    public Task<CommandResult<Invitation>> RevokeAsync(Guid tenantId, Guid invitationId, Actor actor, CancellationToken cancellationToken) =>
        ChangeOpenAsync(tenantId, invitationId, actor, "invitation.revoked", """
            update tenant_invitations set revoked_at = @now
            where tenant_id = @tenantId and id = @invitationId and accepted_at is null and revoked_at is null
            """, new { tenantId, invitationId, now = time.GetUtcNow() }, cancellationToken);

    private async Task<CommandResult<Invitation>> ChangeOpenAsync(Guid tenantId, Guid invitationId, Actor actor, string action, string sql,
        object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var existing = await FindAsync(connection, transaction, tenantId, invitationId, cancellationToken);
        if (existing is null) return CommandResult<Invitation>.NotFound();
        if (await connection.ExecuteAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken)) == 0)
            return CommandResult<Invitation>.Invalid("invitation",
                $"This invitation was already {(existing.AcceptedAt is null ? "revoked" : "accepted")}.");
        await audit.RecordAsync(new AuditEntry(actor, action, tenantId, "invitation", invitationId.ToString(),
            new { email = existing.Email, role = existing.Role.ToText() }), transaction, cancellationToken);
        var changed = await FindAsync(connection, transaction, tenantId, invitationId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<Invitation>.Ok(changed!);
    }

    private static async Task<Invitation?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, Guid invitationId,
        CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            select {Columns} {From}
            where i.tenant_id = @tenantId and i.id = @invitationId
            """, new { tenantId, invitationId }, transaction, cancellationToken: cancellationToken));
        return row?.ToInvitation();
    }
}
