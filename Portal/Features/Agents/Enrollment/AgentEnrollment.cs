using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Input;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Agents.Enrollment;

/// <summary>A freshly minted bootstrap token. <see cref="Token"/> is shown once and never stored.</summary>
public sealed record BootstrapToken(Guid Id, string Token, Guid TenantId, Guid WorkspaceId, DateTimeOffset ExpiresAt);

/// <summary>
/// How an agent comes to exist: a one-time bootstrap token for one workspace (random, stored only
/// as its SHA-256, single use, one hour), exchanged once for a registration of the agent's own
/// public key. The provisioning run calls <see cref="CreateBootstrapTokenAsync"/> when it installs
/// the agent; a platform admin can mint one from the fleet page for a manual install.
/// </summary>
public sealed class AgentEnrollment(
    NpgsqlDataSource dataSource,
    CommandSigningKeyStore signingKeys,
    AuditLog audit,
    IOptions<AgentApiOptions> options,
    TimeProvider time)
{
    public const string TokenPrefix = "cgb_";

    public async Task<BootstrapToken> CreateBootstrapTokenAsync(Guid tenantId, Guid workspaceId, Actor actor, CancellationToken cancellationToken)
    {
        var token = TokenPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var id = Guid.CreateVersion7();
        var now = time.GetUtcNow();
        var expiresAt = now + options.Value.BootstrapTokenLifetime;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into agent_bootstrap_tokens (id, token_hash, tenant_id, workspace_id, created_at, expires_at, created_by)
            values (@id, @hash, @tenantId, @workspaceId, @now, @expiresAt, @createdBy)
            """, new { id, hash = Hash(token), tenantId, workspaceId, now, expiresAt, createdBy = actor.Name ?? actor.Id },
            transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "agent.bootstrap_token_created", tenantId, "workspace", workspaceId.ToString(),
            new { tokenId = id, expiresAt }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new BootstrapToken(id, token, tenantId, workspaceId, expiresAt);
    }

    /// <summary>Registers an agent, consuming its bootstrap token; null when the token is unknown, used or expired.</summary>
    public async Task<RegistrationResponse?> RegisterAsync(RegistrationRequest request, string tokenAudience, CancellationToken cancellationToken)
    {
        // The key is checked before the token is consumed, so a malformed request does not burn the token.
        if (!ProtocolKeys.TryImportPublicKey(request.PublicKey, out var key))
            throw new ArgumentException("publicKey must be an ECDSA P-256 SubjectPublicKeyInfo, base64.");
        // The name is shown to platform admins and in the audit trail: it must display as it is.
        if (InputText.DisplayNameProblem(request.Name) is { } problem)
        {
            key!.Dispose();
            throw new ArgumentException($"name: {problem}");
        }
        using var _ = key;
        var signing = await signingKeys.GetAsync(cancellationToken);
        var now = time.GetUtcNow();
        var agentId = Guid.CreateVersion7();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Single use, atomically: of two registrations racing with one token, exactly one updates the row.
        var scope = await connection.QueryFirstOrDefaultAsync<(Guid TenantId, Guid WorkspaceId, Guid TokenId)>(new CommandDefinition("""
            update agent_bootstrap_tokens set used_at = @now, agent_id = @agentId
            where token_hash = @hash and used_at is null and expires_at > @now
            returning tenant_id, workspace_id, id
            """, new { now, agentId, hash = Hash(request.BootstrapToken ?? "") }, transaction, cancellationToken: cancellationToken));
        if (scope == default) return null;

        var given = string.IsNullOrWhiteSpace(request.Name) ? null : InputText.NormalizeName(request.Name);
        var name = given is null ? $"agent-{agentId.ToString()[..8]}" : given[..Math.Min(given.Length, 100)];
        var keyId = ProtocolKeys.KeyId(key!);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into agents (id, tenant_id, workspace_id, name, public_key, key_id, token_audience, registered_at, agent_version, status_changed_at)
            values (@agentId, @TenantId, @WorkspaceId, @name, @publicKey, @keyId, @tokenAudience, @now, @version, @now)
            """,
            new
            {
                agentId,
                scope.TenantId,
                scope.WorkspaceId,
                name,
                publicKey = key!.ExportSubjectPublicKeyInfo(),
                keyId,
                tokenAudience,
                now,
                version = Trim(request.AgentVersion, 50)
            },
            transaction, cancellationToken: cancellationToken));
        var actor = Actor.Agent(agentId, name);
        await audit.RecordAsync(new AuditEntry(actor, "agent.registered", scope.TenantId, "agent", agentId.ToString(),
            new { workspaceId = scope.WorkspaceId, bootstrapTokenId = scope.TokenId, keyId, agentVersion = request.AgentVersion }), transaction,
                cancellationToken);

        // One agent per workspace: a re-install replaces the previous agent, whose credentials stop working now.
        var replaced = await connection.QueryAsync<Guid>(new CommandDefinition("""
            update agents set status = 'revoked', status_reason = @reason, status_changed_at = @now, access_token_hash = null, access_token_expires_at = null
            where tenant_id = @TenantId and workspace_id = @WorkspaceId and id <> @agentId and status = 'active'
            returning id
            """, new { reason = $"Replaced by agent {agentId}, registered for the same workspace.", now, agentId, scope.TenantId, scope.WorkspaceId },
            transaction, cancellationToken: cancellationToken));
        foreach (var old in replaced)
        {
            await audit.RecordAsync(new AuditEntry(actor, "agent.revoked", scope.TenantId, "agent", old.ToString(),
                new { reason = "replaced", replacedBy = agentId }),
                transaction, cancellationToken);
            await AgentCommandQueue.NotifyAsync(connection, old, transaction, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);

        return new RegistrationResponse(agentId, scope.TenantId, scope.WorkspaceId, ProtocolV1.Version, tokenAudience,
            signing.KeyId, signing.PublicKey, (int)options.Value.HeartbeatInterval.TotalSeconds);
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string? Trim(string? text, int max) => text is null ? null : text.Length <= max ? text : text[..max];
}
