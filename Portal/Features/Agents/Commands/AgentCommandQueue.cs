using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Agents.Commands;

/// <summary>A command to enqueue. The payload must hold no secret: it is stored, shown and audited as is.</summary>
public sealed record NewAgentCommand(
    Guid TenantId,
    Guid AgentId,
    string Type,
    JsonObject? Payload = null,
    string? IdempotencyKey = null,
    TimeSpan? Lifetime = null);

public sealed record EnqueuedCommand(Guid Id, bool Created);

/// <summary>A command as the status page shows it.</summary>
public sealed record AgentCommandView(
    Guid Id,
    string Type,
    string Status,
    string Payload,
    string IdempotencyKey,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? DeliveredAt,
    int DeliveryCount,
    DateTimeOffset? CompletedAt,
    string? ResultMessage)
{
    public string DisplayStatus(DateTimeOffset now) => Status == "pending" && ExpiresAt <= now ? "expired" : Status;
}

public enum ResultAcceptance { Recorded, AlreadyRecorded, NotFound }

/// <summary>What an agent answered to one command: its status, message and output (null once forgotten).</summary>
public sealed record AgentCommandAnswer(Guid Id, string Status, string? ResultMessage, string? Output);

/// <summary>
/// The command queue of every agent, in PostgreSQL. Enqueue signs the command and notifies the
/// agent's channel in the same transaction; delivery is at least once (a command stays pending
/// until its agent reports a result), so agents execute idempotently.
/// </summary>
public sealed class AgentCommandQueue(
    NpgsqlDataSource dataSource,
    CommandSigner signer,
    AgentCommandSignals signals,
    AuditLog audit,
    IOptions<AgentApiOptions> options,
    TimeProvider time,
    IEnumerable<IAgentCommandResultHandler> resultHandlers)
{
    private readonly ILookup<string, IAgentCommandResultHandler> handlersByType = resultHandlers.ToLookup(h => h.CommandType);

    /// <summary>Enqueues a command for an active agent of the tenant; null when there is none (another tenant's agent is "not found").</summary>
    public async Task<EnqueuedCommand?> EnqueueAsync(NewAgentCommand command, Actor actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var queued = await EnqueueAsync(transaction, command, actor, cancellationToken);
        if (queued is { Created: true }) await transaction.CommitAsync(cancellationToken);
        return queued;
    }

    /// <summary>
    /// Enqueues in the caller's transaction: the agent can neither see nor answer the command before the caller's own rows (the
    /// ones a result handler updates) are committed with it. The wake-up goes when the transaction commits.
    /// </summary>
    public async Task<EnqueuedCommand?> EnqueueAsync(NpgsqlTransaction transaction, NewAgentCommand command, Actor actor,
        CancellationToken cancellationToken)
    {
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has ended.");
        ArgumentException.ThrowIfNullOrWhiteSpace(command.Type);
        var now = time.GetUtcNow();
        var idempotencyKey = string.IsNullOrWhiteSpace(command.IdempotencyKey) ? Guid.NewGuid().ToString("N") : command.IdempotencyKey;
        var payload = command.Payload ?? new JsonObject();

        var active = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from agents where id = @AgentId and tenant_id = @TenantId and status = 'active')",
            new { command.AgentId, command.TenantId }, transaction, cancellationToken: cancellationToken));
        if (!active) return null;

        var existing = await connection.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition(
            "select id from agent_commands where agent_id = @AgentId and idempotency_key = @idempotencyKey",
            new { command.AgentId, idempotencyKey }, transaction, cancellationToken: cancellationToken));
        if (existing is { } existingId) return new EnqueuedCommand(existingId, Created: false);

        var id = Guid.CreateVersion7();
        var envelope = new CommandEnvelope(id, command.AgentId, command.Type,
            JsonSerializer.SerializeToElement(payload, ProtocolJson.Default.JsonObject), idempotencyKey,
            now, now + (command.Lifetime ?? options.Value.DefaultCommandLifetime));
        var signed = await signer.SignAsync(envelope, cancellationToken);

        await connection.ExecuteAsync(new CommandDefinition("""
            insert into agent_commands (id, agent_id, tenant_id, type, payload, idempotency_key, envelope, created_at, created_by, expires_at)
            values (@Id, @AgentId, @TenantId, @Type, @Payload::jsonb, @IdempotencyKey, @Envelope, @CreatedAt, @CreatedBy, @ExpiresAt)
            """,
            new
            {
                Id = id,
                command.AgentId,
                command.TenantId,
                command.Type,
                Payload = payload.ToJsonString(),
                IdempotencyKey = idempotencyKey,
                Envelope = signed,
                CreatedAt = now,
                CreatedBy = actor.Name ?? actor.Id,
                envelope.ExpiresAt,
            }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "agent.command_enqueued", command.TenantId, "agent", command.AgentId.ToString(),
            new { commandId = id, type = command.Type, idempotencyKey, expiresAt = envelope.ExpiresAt }), transaction, cancellationToken);
        // Delivered to every listening Portal process when the transaction commits, not before.
        await NotifyAsync(connection, command.AgentId, transaction, cancellationToken);
        return new EnqueuedCommand(id, Created: true);
    }

    private sealed record Completion(string Type, string Payload);

    internal static Task NotifyAsync(NpgsqlConnection connection, Guid agentId, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("select pg_notify(@Channel, @AgentId)",
            new { Channel = AgentCommandSubscriber.ChannelName, AgentId = agentId.ToString() }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// The long poll: answers at once with the agent's pending commands, or waits (without holding a
    /// connection) until one is enqueued or <paramref name="wait"/> has passed.
    /// </summary>
    public async Task<IReadOnlyList<string>> WaitForCommandsAsync(Guid agentId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            // Take the wake-up before reading, so a command committed in between is not missed.
            var wakeUp = signals.WaitForWakeUp(agentId);
            var commands = await TakePendingAsync(agentId, cancellationToken);
            var remaining = wait - time.GetElapsedTime(started);
            if (commands.Count > 0 || remaining <= TimeSpan.Zero)
            {
                signals.Forget(agentId, wakeUp);
                return commands;
            }
            try
            {
                await wakeUp.WaitAsync(remaining, time, cancellationToken);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                signals.Forget(agentId, wakeUp);
                if (ex is OperationCanceledException) throw;
                return [];
            }
        }
    }

    private async Task<IReadOnlyList<string>> TakePendingAsync(Guid agentId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Envelope, DateTimeOffset CreatedAt)>(new CommandDefinition("""
            with next as (
                select c.id from agent_commands c
                join agents a on a.id = c.agent_id and a.status = 'active'
                where c.agent_id = @agentId and c.status = 'pending' and c.expires_at > @now
                order by c.created_at
                limit 50
            )
            update agent_commands c
            set delivered_at = @now, delivery_count = c.delivery_count + 1
            from next where c.id = next.id
            returning c.envelope, c.created_at
            """, new { agentId, now = time.GetUtcNow() }, cancellationToken: cancellationToken));
        return rows.OrderBy(r => r.CreatedAt).Select(r => r.Envelope).ToList();
    }

    /// <summary>Records an agent's result for one of its own commands. Reporting twice is harmless (at-least-once).</summary>
    public async Task<ResultAcceptance> RecordResultAsync(AgentIdentity agent, Guid commandId, CommandResult result,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var completion = await connection.QueryFirstOrDefaultAsync<Completion>(new CommandDefinition("""
            update agent_commands
            set status = @Outcome, completed_at = @now, result_message = left(@Message, 4000), result_output = @Output::jsonb
            where id = @commandId and agent_id = @AgentId and status = 'pending'
            returning type, payload::text
            """,
            new { result.Outcome, now, result.Message, Output = result.Output?.ToJsonString(), commandId, agent.AgentId },
            transaction, cancellationToken: cancellationToken));
        if (completion is null)
        {
            var known = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select exists (select 1 from agent_commands where id = @commandId and agent_id = @AgentId)",
                new { commandId, agent.AgentId }, transaction, cancellationToken: cancellationToken));
            return known ? ResultAcceptance.AlreadyRecorded : ResultAcceptance.NotFound;
        }

        var completed = completion.Type;
        var actor = Actor.Agent(agent.AgentId);
        foreach (var handler in handlersByType[completed])
        {
            using var payload = JsonDocument.Parse(completion.Payload);
            var context = new AgentCommandResultContext(agent, commandId, payload.RootElement, result, connection, transaction);
            await handler.HandleAsync(context, cancellationToken);
        }
        await audit.RecordAsync(new AuditEntry(actor, "agent.command_completed", agent.TenantId, "agent", agent.AgentId.ToString(),
            new { commandId, type = completed, outcome = result.Outcome, message = result.Message }), transaction, cancellationToken);
        if (completed == CommandTypes.Upgrade)
        {
            // The outcome of an upgrade, in words an auditor reads: which image, and a rollback's reason.
            await audit.RecordAsync(new AuditEntry(actor, result.Outcome == CommandOutcomes.Succeeded ? "agent.upgraded" : "agent.upgrade_failed",
                agent.TenantId, "agent", agent.AgentId.ToString(),
                new
                {
                    commandId,
                    image = result.Output?["image"]?.ToString(),
                    previousImage = result.Output?["previousImage"]?.ToString(),
                    message = result.Message
                }),
                transaction, cancellationToken);
        }
        if (completed == CommandTypes.Uninstall && result.Outcome == CommandOutcomes.Succeeded)
        {
            // The agent removed what it created and is going away: it may not call again.
            await connection.ExecuteAsync(new CommandDefinition("""
                update agents set status = 'uninstalled', status_reason = 'Uninstalled by command', status_changed_at = @now,
                                  access_token_hash = null, access_token_expires_at = null
                where id = @AgentId
                """, new { now, agent.AgentId }, transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(actor, "agent.uninstalled", agent.TenantId, "agent", agent.AgentId.ToString(), new { commandId }),
                transaction, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return ResultAcceptance.Recorded;
    }

    /// <summary>The answer to one of the tenant's commands; null for another tenant's (or no) command.</summary>
    public async Task<AgentCommandAnswer?> AnswerAsync(Guid tenantId, Guid commandId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QueryFirstOrDefaultAsync<AgentCommandAnswer>(new CommandDefinition("""
            select id, status, result_message, result_output::text as output from agent_commands where id = @commandId and tenant_id = @tenantId
            """, new { tenantId, commandId }, cancellationToken: cancellationToken));
    }

    /// <summary>Deletes the outputs of the tenant's commands (what they read), keeping that they ran and how they ended.</summary>
    public async Task<int> ForgetOutputsAsync(Guid tenantId, IReadOnlyCollection<Guid> commandIds, CancellationToken cancellationToken)
    {
        if (commandIds.Count == 0) return 0;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            update agent_commands set result_output = null
            where tenant_id = @tenantId and id = any(@ids) and result_output is not null
            """, new { tenantId, ids = commandIds.ToArray() }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<AgentCommandView>> HistoryAsync(Guid agentId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<AgentCommandView>(new CommandDefinition("""
            select id, type, status, payload::text as payload, idempotency_key, created_at, created_by, expires_at,
                   delivered_at, delivery_count, completed_at, result_message
            from agent_commands where agent_id = @agentId
            order by created_at desc limit @limit
            """, new { agentId, limit }, cancellationToken: cancellationToken))).ToList();
    }
}
