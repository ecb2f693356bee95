using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Secrets;

/// <summary>
/// The write-only relay (docs/secrets.md): takes a secret sealed in the browser (or by `seal`), keeps its
/// ciphertext only until the agent reports the delivery (at most 24 h), and shows metadata only. Nothing
/// here can read a value: the Portal holds no key that opens one. Every query takes the tenant.
/// </summary>
public sealed partial class SecretRelay(
    NpgsqlDataSource dataSource,
    AgentRegistry agents,
    AgentCommandQueue commands,
    EncryptionKeyDirectory keys,
    AuditLog audit,
    TimeProvider time,
    ILogger<SecretRelay> logger)
{
    /// <summary>A sealed value stays small: a password, a key, a certificate; never a file system.</summary>
    private const int MaxSealedBytes = 256 * 1024;
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    private const string Columns = """
        id, workspace_id, namespace, name, keys, version, status, status_message, updated_by, updated_at, created_at
        """;

    private sealed record CurrentVersion(Guid Id, long Version);

    private sealed record Delivered(Guid SecretId, long Version);

    /// <summary>A row as Dapper fills it (settable properties, so its type handlers convert timestamptz and text[]).</summary>
    private sealed class Row
    {
        public Guid Id { get; set; }
        public Guid WorkspaceId { get; set; }
        public string Namespace { get; set; } = "";
        public string Name { get; set; } = "";
        public string[] Keys { get; set; } = [];
        public long Version { get; set; }
        public string Status { get; set; } = "";
        public string? StatusMessage { get; set; }
        public string UpdatedBy { get; set; } = "";
        public DateTimeOffset UpdatedAt { get; set; }
        public DateTimeOffset CreatedAt { get; set; }

        public WorkspaceSecret ToSecret() =>
            new(Id, WorkspaceId, Namespace, Name, Keys, Version, SecretStatusText.Parse(Status), StatusMessage, UpdatedBy, UpdatedAt, CreatedAt);
    }

    public async Task<IReadOnlyList<WorkspaceSecret>> ListAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from workspace_secrets where tenant_id = @tenantId and workspace_id = @workspaceId order by namespace, name",
            new { tenantId, workspaceId }, cancellationToken: cancellationToken))).Select(r => r.ToSecret()).ToList();
    }

    public async Task<WorkspaceSecret?> GetAsync(Guid tenantId, Guid workspaceId, Guid secretId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns} from workspace_secrets where tenant_id = @tenantId and workspace_id = @workspaceId and id = @secretId",
            new { tenantId, workspaceId, secretId }, cancellationToken: cancellationToken)))?.ToSecret();
    }

    /// <summary>
    /// Accepts a sealed secret for the workspace and asks its agent to apply it. Refuses (field errors,
    /// nothing stored) what the agent would refuse anyway: another workspace, an expired or far not-after,
    /// a key the agent did not publish, a version not greater than the last.
    /// </summary>
    public async Task<CommandResult<WorkspaceSecret>> SubmitAsync(
        Guid tenantId, Guid workspaceId, SealedSecret? sealedSecret, Actor actor, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var errors = Validate(tenantId, workspaceId, sealedSecret, now);
        if (!errors.IsEmpty) return CommandResult<WorkspaceSecret>.Invalid(errors);
        var agent = (await agents.ListForWorkspaceAsync(tenantId, workspaceId, cancellationToken)).FirstOrDefault(a => a.Status == "active");
        if (agent is null) return CommandResult<WorkspaceSecret>.Invalid("workspace", "The workspace has no active Cluster Agent to deliver to.");
        if (!await keys.IsUsableAsync(agent.Id, sealedSecret!.EncryptionKeyId, cancellationToken))
            return CommandResult<WorkspaceSecret>.Invalid("encryptionKeyId",
                "The agent has not published this encryption key, or it has retired it.");

        var keyNames = sealedSecret.Values.Select(v => v.Key).Order(StringComparer.Ordinal).ToArray();
        var deliveryId = Guid.CreateVersion7();
        Guid secretId;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var current = await connection.QueryFirstOrDefaultAsync<CurrentVersion>(new CommandDefinition("""
                select id, version from workspace_secrets
                where tenant_id = @tenantId and workspace_id = @workspaceId and namespace = @Namespace and name = @Name for update
                """, new { tenantId, workspaceId, sealedSecret.Namespace, sealedSecret.Name }, transaction, cancellationToken: cancellationToken));
            if (current is not null && sealedSecret.Version <= current.Version)
                return CommandResult<WorkspaceSecret>.Invalid("version", $"The version must be greater than the current version {current.Version}.");
            secretId = current?.Id ?? Guid.CreateVersion7();
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into workspace_secrets (id, tenant_id, workspace_id, namespace, name, keys, version, status, updated_by, updated_at,
                    created_at)
                values (@secretId, @tenantId, @workspaceId, @Namespace, @Name, @keyNames, @Version, 'pending', @by, @now, @now)
                on conflict (id) do update set keys = excluded.keys, version = excluded.version, status = 'pending', status_message = null,
                                              updated_by = excluded.updated_by, updated_at = excluded.updated_at
                """, new
            {
                secretId,
                tenantId,
                workspaceId,
                sealedSecret.Namespace,
                sealedSecret.Name,
                keyNames,
                sealedSecret.Version,
                by = actor.Name ?? actor.Id,
                now
            }, transaction, cancellationToken: cancellationToken));
            var inserted = await connection.ExecuteAsync(new CommandDefinition("""
                insert into secret_deliveries (id, secret_id, agent_id, tenant_id, request_id, sealed, not_after, created_at)
                values (@deliveryId, @secretId, @agentId, @tenantId, @RequestId, @sealed::jsonb, @notAfter, @now)
                on conflict (request_id) do nothing
                """, new
            {
                deliveryId,
                secretId,
                agentId = agent.Id,
                tenantId,
                sealedSecret.RequestId,
                @sealed = JsonSerializer.Serialize(sealedSecret, ProtocolJson.Default.SealedSecret),
                notAfter = DateTimeOffset.FromUnixTimeSeconds(sealedSecret.NotAfter),
                now,
            }, transaction, cancellationToken: cancellationToken));
            if (inserted == 0) return CommandResult<WorkspaceSecret>.Invalid("requestId", "This request id was already used.");
            await audit.RecordAsync(new AuditEntry(actor, current is null ? "secret.created" : "secret.rotated", tenantId, "secret",
                secretId.ToString(),
                new
                {
                    workspaceId,
                    sealedSecret.Namespace,
                    sealedSecret.Name,
                    keys = keyNames,
                    sealedSecret.Version,
                    sealedSecret.RequestId,
                    agentId = agent.Id
                }),
                transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        // The command carries the delivery's id and metadata only: the ciphertext stays in secret_deliveries,
        // where it is deleted when the agent reports, instead of in the command table for ever.
        var lifetime = DateTimeOffset.FromUnixTimeSeconds(sealedSecret.NotAfter) - now;
        var payload = JsonSerializer.SerializeToNode(new ApplySecretPayload(deliveryId, sealedSecret.Namespace, sealedSecret.Name,
            sealedSecret.Version),
            ProtocolJson.Default.ApplySecretPayload)!.AsObject();
        var queued = await commands.EnqueueAsync(new NewAgentCommand(tenantId, agent.Id, CommandTypes.ApplySecret, payload,
            "secret:" + sealedSecret.RequestId.ToString("N"), lifetime), actor, cancellationToken);
        if (queued is null) await MarkAsync(secretId, SecretStatus.Failed, "The agent was no longer active; nothing was delivered.",
            cancellationToken);
        logger.LogInformation("Relayed version {Version} of secret {SecretId} ({Namespace}/{Name}) to agent {AgentId}",
            sealedSecret.Version, secretId, sealedSecret.Namespace, sealedSecret.Name, agent.Id);
        return CommandResult<WorkspaceSecret>.Ok((await GetAsync(tenantId, workspaceId, secretId, cancellationToken))!);
    }

    /// <summary>
    /// What <see cref="SubmitAsync"/> would refuse, without storing or sending anything: the catalog checks the secret
    /// values of an install or upgrade before it changes anything, so a refused secret leaves no half-made app.
    /// </summary>
    public async Task<FieldErrors> CheckAsync(Guid tenantId, Guid workspaceId, SealedSecret? sealedSecret, CancellationToken cancellationToken)
    {
        var errors = Validate(tenantId, workspaceId, sealedSecret, time.GetUtcNow());
        if (!errors.IsEmpty) return errors;
        var agent = (await agents.ListForWorkspaceAsync(tenantId, workspaceId, cancellationToken)).FirstOrDefault(a => a.Status == "active");
        if (agent is null) return errors.Add("workspace", "The workspace has no active Cluster Agent to deliver to.");
        if (!await keys.IsUsableAsync(agent.Id, sealedSecret!.EncryptionKeyId, cancellationToken))
            return errors.Add("encryptionKeyId", "The agent has not published this encryption key, or it has retired it.");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var current = await connection.QueryFirstOrDefaultAsync<long?>(new CommandDefinition("""
            select version from workspace_secrets
            where tenant_id = @tenantId and workspace_id = @workspaceId and namespace = @Namespace and name = @Name
            """, new { tenantId, workspaceId, sealedSecret.Namespace, sealedSecret.Name }, cancellationToken: cancellationToken));
        if (current is { } version && sealedSecret.Version <= version)
            errors.Add("version", $"The version must be greater than the current version {version}.");
        return errors;
    }

    /// <summary>Asks the agent to delete the Secret in the cluster; the row goes when the agent reports it deleted.</summary>
    public async Task<CommandResult<WorkspaceSecret>> DeleteAsync(Guid tenantId, Guid workspaceId, Guid secretId, Actor actor,
        CancellationToken cancellationToken)
    {
        var secret = await GetAsync(tenantId, workspaceId, secretId, cancellationToken);
        if (secret is null) return CommandResult<WorkspaceSecret>.NotFound();
        var agent = (await agents.ListForWorkspaceAsync(tenantId, workspaceId, cancellationToken)).FirstOrDefault(a => a.Status == "active");
        if (agent is null) return CommandResult<WorkspaceSecret>.Invalid("workspace",
            "The workspace has no active Cluster Agent to delete it in the cluster.");
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                update workspace_secrets set status = 'deleting', status_message = null, updated_by = @by, updated_at = @now where id = @secretId;
                delete from secret_deliveries where secret_id = @secretId;
                """, new { secretId, by = actor.Name ?? actor.Id, now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(actor, "secret.delete_requested", tenantId, "secret", secretId.ToString(),
                new { workspaceId, secret.Namespace, secret.Name }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        var payload = JsonSerializer.SerializeToNode(new DeleteSecretPayload(secret.Namespace, secret.Name),
            ProtocolJson.Default.DeleteSecretPayload)!.AsObject();
        await commands.EnqueueAsync(new NewAgentCommand(tenantId, agent.Id, CommandTypes.DeleteSecret, payload), actor, cancellationToken);
        return CommandResult<WorkspaceSecret>.Ok((await GetAsync(tenantId, workspaceId, secretId, cancellationToken))!);
    }

    /// <summary>The sealed secret of one delivery, for the agent it was relayed to only, while it is held.</summary>
    public async Task<string?> SealedForAgentAsync(Guid agentId, Guid deliveryId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
            "select sealed::text from secret_deliveries where id = @deliveryId and agent_id = @agentId and not_after > @now",
            new { deliveryId, agentId, now = time.GetUtcNow() }, cancellationToken: cancellationToken));
    }

    /// <summary>Deletes ciphertext past its not-after that no agent reported: the agent would refuse it anyway.</summary>
    public async Task<int> ForgetExpiredAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            with gone as (delete from secret_deliveries where not_after <= @now returning secret_id)
            update workspace_secrets s set status = 'failed', status_message = 'Not delivered before it expired; seal it again.'
            from gone where s.id = gone.secret_id and s.status = 'pending'
            """, new { now = time.GetUtcNow() }, cancellationToken: cancellationToken));
    }

    private async Task MarkAsync(Guid secretId, SecretStatus status, string message, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "update workspace_secrets set status = @status, status_message = @message where id = @secretId",
            new { secretId, status = status.ToDbText(), message }, cancellationToken: cancellationToken));
    }

    private static FieldErrors Validate(Guid tenantId, Guid workspaceId, SealedSecret? secret, DateTimeOffset now)
    {
        var errors = new FieldErrors();
        if (secret is null) return errors.Add("body", "A sealed secret is required.");
        if (secret.TenantId != tenantId || secret.WorkspaceId != workspaceId) errors.Add("workspaceId",
            "It was sealed for another tenant or workspace.");
        if (secret.Namespace is null || !DnsLabel().IsMatch(secret.Namespace) || secret.Namespace.StartsWith("kube-", StringComparison.Ordinal))
            errors.Add("namespace", "The app's namespace: a DNS label (lower-case letters, digits and '-').");
        if (secret.Name is null || !SealedSecrets.SecretName().IsMatch(secret.Name)) errors.Add("name",
            "A Kubernetes Secret name: lower-case letters, digits, '-' and '.'.");
        if (secret.Version < 1) errors.Add("version", "The version must be 1 or more.");
        if (secret.RequestId == Guid.Empty) errors.Add("requestId", "A request id is required.");
        if (string.IsNullOrEmpty(secret.EncryptionKeyId)) errors.Add("encryptionKeyId", "The encryption key id is required.");
        var notAfter = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(secret.NotAfter, 0, 253402300799));
        if (notAfter <= now || notAfter > now + SealedSecrets.MaxLifetime + ClockSkew) errors.Add("notAfter",
            "The not-after must be in the next 24 hours.");
        if (secret.Values is not { Count: > 0 } values) return errors.Add("values", "At least one sealed value is required.");
        if (values.Any(v => v.Key is null || !SealedSecrets.DataKey().IsMatch(v.Key))) errors.Add("values",
            "Each key: letters, digits, '-', '_' and '.'.");
        else if (values.Select(v => v.Key).Distinct(StringComparer.Ordinal).Count() != values.Count) errors.Add("values", "Each key once.");
        if (values.Sum(v => (long)(v.Enc?.Length ?? 0) + (v.Ciphertext?.Length ?? 0)) > MaxSealedBytes) errors.Add("values",
            "At most 256 KiB sealed.");
        return errors;
    }

    /// <summary>
    /// Deliveries whose secret.apply commands were withdrawn before their agent took them (a cancelled queued app change):
    /// the ciphertext goes, as when the agent reports, and the version shows failed with the reason. In the caller's
    /// transaction, which also cancels the commands.
    /// </summary>
    public static async Task WithdrawAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<Guid> deliveryIds,
        string reason, CancellationToken cancellationToken)
    {
        if (deliveryIds.Count == 0) return;
        var withdrawn = await connection.QueryAsync<Delivered>(new CommandDefinition("""
            delete from secret_deliveries d where d.id = any(@ids)
            returning d.secret_id as secretid, (d.sealed ->> 'version')::bigint as version
            """, new { ids = deliveryIds.ToArray() }, transaction, cancellationToken: cancellationToken));
        foreach (var d in withdrawn)
            await connection.ExecuteAsync(new CommandDefinition("""
                update workspace_secrets set status = @status, status_message = left(@reason, 1000)
                where id = @SecretId and version = @Version and status = 'pending'
                """, new { status = SecretStatus.Failed.ToDbText(), reason, d.SecretId, d.Version }, transaction,
                cancellationToken: cancellationToken));
    }

    /// <summary>The agent reported a secret.apply: the ciphertext goes, the secret shows applied or the agent's refusal.</summary>
    public sealed class ApplyResultHandler(AuditLog audit) : IAgentCommandResultHandler
    {
        public string CommandType => CommandTypes.ApplySecret;

        public async Task HandleAsync(AgentCommandResultContext context, CancellationToken cancellationToken)
        {
            var deliveryId = context.Payload.Deserialize(ProtocolJson.Default.ApplySecretPayload)?.DeliveryId;
            var delivered = await context.Connection.QueryFirstOrDefaultAsync<Delivered>(new CommandDefinition("""
                delete from secret_deliveries d where d.id = @deliveryId and d.agent_id = @AgentId
                returning d.secret_id as secretid, (d.sealed ->> 'version')::bigint as version
                """, new { deliveryId, context.Agent.AgentId }, context.Transaction, cancellationToken: cancellationToken));
            if (delivered is not { } d) return;
            var status = context.Result.Outcome switch
            {
                CommandOutcomes.Succeeded => SecretStatus.Applied,
                CommandOutcomes.Rejected => SecretStatus.Refused,
                _ => SecretStatus.Failed,
            };
            // Only the latest version's report moves the status: an older one finishing late changes nothing shown.
            await context.Connection.ExecuteAsync(new CommandDefinition("""
                update workspace_secrets set status = @status, status_message = left(@Message, 1000)
                where id = @SecretId and version = @Version and status = 'pending'
                """, new { status = status.ToDbText(), context.Result.Message, d.SecretId, d.Version },
                context.Transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(Actor.Agent(context.Agent.AgentId),
                status == SecretStatus.Applied ? "secret.applied" : "secret.refused",
                context.Agent.TenantId, "secret", d.SecretId.ToString(), new
                {
                    d.Version,
                    outcome = context.Result.Outcome,
                    message = context.Result.Message
                }),
                context.Transaction, cancellationToken);
        }
    }

    /// <summary>The agent reported a secret.delete: deleted in the cluster, so the metadata goes too.</summary>
    public sealed class DeleteResultHandler(AuditLog audit) : IAgentCommandResultHandler
    {
        public string CommandType => CommandTypes.DeleteSecret;

        public async Task HandleAsync(AgentCommandResultContext context, CancellationToken cancellationToken)
        {
            var payload = context.Payload.Deserialize(ProtocolJson.Default.DeleteSecretPayload);
            if (payload is null) return;
            var deleted = context.Result.Outcome == CommandOutcomes.Succeeded;
            var secretId = await context.Connection.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition(deleted
                ? """
                  delete from workspace_secrets where tenant_id = @TenantId and workspace_id = @WorkspaceId
                  and namespace = @Namespace and name = @Name and status = 'deleting' returning id
                  """
                : """
                  update workspace_secrets set status = 'failed', status_message = left(@Message, 1000) where tenant_id = @TenantId
                  and workspace_id = @WorkspaceId and namespace = @Namespace and name = @Name and status = 'deleting' returning id
                  """,
                new { context.Agent.TenantId, context.Agent.WorkspaceId, payload.Namespace, payload.Name, context.Result.Message },
                context.Transaction, cancellationToken: cancellationToken));
            if (secretId is null) return;
            await audit.RecordAsync(new AuditEntry(Actor.Agent(context.Agent.AgentId), deleted ? "secret.deleted" : "secret.delete_failed",
                context.Agent.TenantId, "secret", secretId.ToString()!, new { payload.Namespace, payload.Name, context.Result.Message }),
                context.Transaction, cancellationToken);
        }
    }
}
