using System.Security.Cryptography;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Authentication;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Secrets;

/// <summary>
/// The agents' encryption key statements. The Portal checks each statement against the agent's registered
/// identity key on receipt (so a stale or foreign one is refused early), but senders never rely on that:
/// they verify the signature against the fingerprint they pinned (docs/secrets.md).
/// </summary>
public sealed class EncryptionKeyDirectory(NpgsqlDataSource dataSource, AgentRegistry agents, AuditLog audit, TimeProvider time)
{
    /// <summary>Records a statement; null when accepted, else why not.</summary>
    public async Task<string?> PublishAsync(AgentIdentity agent, string statement, CancellationToken cancellationToken)
    {
        var identityKey = await agents.IdentityKeyAsync(agent.AgentId, cancellationToken);
        if (identityKey is null) return "Unknown agent.";
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(identityKey, out _);
        if (!Jws.TryVerify(statement, ProtocolJson.Default.EncryptionKeyStatement, SealedSecrets.StatementJwsType, key, out var verified))
            return "The statement is not signed by this agent's registered identity key.";
        if (verified!.AgentId != agent.AgentId || verified.TenantId != agent.TenantId || verified.WorkspaceId != agent.WorkspaceId)
            return "The statement names another agent, tenant or workspace.";
        var now = time.GetUtcNow();
        var notAfter = DateTimeOffset.FromUnixTimeSeconds(verified.NotAfter);
        if (notAfter <= now || notAfter > now + SealedSecrets.KeyLifetime + TimeSpan.FromMinutes(5))
            return "The statement's not-after must be in the future and at most 7 days away.";

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition("""
            insert into agent_encryption_keys (agent_id, key_id, statement, not_after, published_at)
            values (@AgentId, @KeyId, @statement, @notAfter, @now)
            on conflict (agent_id, key_id) do update set statement = excluded.statement, published_at = excluded.published_at
            where agent_encryption_keys.statement <> excluded.statement
            """, new { agent.AgentId, verified.KeyId, statement, notAfter, now }, transaction, cancellationToken: cancellationToken));
        if (changed > 0)
            await audit.RecordAsync(new AuditEntry(Actor.Agent(agent.AgentId), "agent.encryption_key_published", agent.TenantId, "agent",
                agent.AgentId.ToString(), new { keyId = verified.KeyId, notAfter }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return null;
    }

    /// <summary>The newest usable statement of the workspace's active agent, with its identity key; null when there is none.</summary>
    public async Task<EncryptionKeyOffer?> OfferAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken)
    {
        var agent = (await agents.ListForWorkspaceAsync(tenantId, workspaceId, cancellationToken)).FirstOrDefault(a => a.Status == "active");
        if (agent is null) return null;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var statement = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition("""
            select statement from agent_encryption_keys
            where agent_id = @Id and not_after > @now
            order by not_after desc limit 1
            """, new { agent.Id, now = time.GetUtcNow() }, cancellationToken: cancellationToken));
        var identityKey = await agents.IdentityKeyAsync(agent.Id, cancellationToken);
        if (statement is null || identityKey is null) return null;
        return new EncryptionKeyOffer(tenantId, workspaceId, agent.Id, Convert.ToBase64String(identityKey),
            SealedSecrets.Fingerprint(identityKey), statement);
    }

    /// <summary>True when the key is one the agent published and still opens with (its not-after plus the grace).</summary>
    public async Task<bool> IsUsableAsync(Guid agentId, string keyId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from agent_encryption_keys where agent_id = @agentId and key_id = @keyId and not_after > @cutoff)",
            new { agentId, keyId, cutoff = time.GetUtcNow() - SealedSecrets.KeyGrace }, cancellationToken: cancellationToken));
    }
}
