using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Support;

/// <summary>What the support session page asks: an action and its target.</summary>
public sealed record SupportQuestion(string Action, string? Namespace = null, string? Kind = null, string? Name = null, string? Container = null,
    int? TailLines = null)
{
    public string Target => Action switch
    {
        SupportActions.List => Namespace is null ? "all app namespaces" : $"namespace {Namespace}",
        SupportActions.Describe => $"{Kind} {Namespace}/{Name}",
        SupportActions.Logs => $"pod {Namespace}/{Name}{(Container is null ? "" : "/" + Container)}, last {TailLines ?? 100} lines",
        _ => Action,
    };
}

/// <summary>
/// A support session: each action is an agent command carrying the grant id. The Portal refuses what it already
/// knows to be outside the grant (and records that refusal); the agent decides the rest with its own clock. Only
/// what was asked is kept in the trail; the answer stays in the command's result until the grant ends.
/// </summary>
public sealed class SupportSessions(
    NpgsqlDataSource dataSource,
    SupportRequests requests,
    AgentCommandQueue commands,
    AuditLog audit,
    TimeProvider time)
{
    public async Task<CommandResult<SupportActionRecord>> AskAsync(Guid requesterId, Guid requestId, SupportQuestion question, Actor actor,
        CancellationToken cancellationToken)
    {
        var request = await requests.GetForRequesterAsync(requesterId, requestId, cancellationToken);
        if (request is null) return CommandResult<SupportActionRecord>.NotFound();
        if (question.Action is not (SupportActions.List or SupportActions.Describe or SupportActions.Logs))
            return CommandResult<SupportActionRecord>.Invalid("action", "Choose list, describe or logs.");
        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7();
        string? refusal = null;
        if (!request.IsActiveAt(now))
            refusal = $"the grant is not active (it is " +
                $"{request.StatusAt(now).ToDbText()}{(request.Grant == GrantDelivery.Sent ? ", not yet recorded by the agent" : "")})";
        else if (!SupportActions.Allows(request.Scope.ToDbText(), question.Action))
            refusal = $"action '{question.Action}' is outside the grant's scope '{request.Scope.ToDbText()}'";

        // The command and its support_actions row commit together: an agent that answers at once (it is woken by the commit)
        // finds the row its result handler completes; enqueued first, the answer could come before the row and be lost.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Guid? commandId = null;
        if (refusal is null)
        {
            var payload = new SupportActionPayload(requestId, question.Action, question.Namespace, question.Kind, question.Name, question.Container,
                question.TailLines);
            var lifetime = request.NotAfter!.Value - now;
            var queued = await commands.EnqueueAsync(transaction, new NewAgentCommand(request.TenantId, request.AgentId,
                CommandTypes.SupportAction, JsonSerializer.SerializeToNode(payload, ProtocolJson.Default.SupportActionPayload)!.AsObject(),
                $"support-action:{id:N}", lifetime < TimeSpan.FromMinutes(5) ? lifetime : TimeSpan.FromMinutes(5)), actor, cancellationToken);
            if (queued is null) refusal = "the workspace's agent is no longer active";
            commandId = queued?.Id;
        }

        var outcome = refusal is null ? SupportActionOutcome.Pending : SupportActionOutcome.Refused;
        var message = refusal is null ? null : $"Refused by the Portal: {refusal}.";
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into support_actions (id, request_id, tenant_id, command_id, action, target, asked_by, asked_at, outcome, message,
                                         completed_at)
            values (@id, @requestId, @TenantId, @commandId, @Action, @target, @by, @now, @outcome, @message, @completedAt)
            """, new
        {
            id,
            requestId,
            request.TenantId,
            commandId,
            question.Action,
            target = question.Target,
            by = actor.Name ?? actor.Id,
            now,
            outcome = outcome.ToDbText(),
            message,
            completedAt = refusal is null ? (DateTimeOffset?)null : now,
        }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, refusal is null ? "support.action_requested" : "support.action_refused", request.TenantId,
            "support_request", requestId.ToString(), new { actionId = id, commandId, question.Action, target = question.Target, message }),
            transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return CommandResult<SupportActionRecord>.Ok(new SupportActionRecord(id, requestId, commandId, question.Action, question.Target,
            actor.Name ?? actor.Id, now, outcome, message, refusal is null ? null : now));
    }

    /// <summary>The agent's answer to one action of the requester's, while the grant is active; null otherwise.</summary>
    public async Task<JsonObject?> AnswerAsync(Guid requesterId, SupportActionRecord action, CancellationToken cancellationToken)
    {
        var request = await requests.GetForRequesterAsync(requesterId, action.RequestId, cancellationToken);
        if (request is null || action.CommandId is not { } commandId || !request.IsActiveAt(time.GetUtcNow())) return null;
        var answer = await commands.AnswerAsync(request.TenantId, commandId, cancellationToken);
        return answer?.Output is { } output ? JsonNode.Parse(output) as JsonObject : null;
    }

    /// <summary>The actions of one request, newest first, for its requester.</summary>
    public async Task<IReadOnlyList<SupportActionRecord>> ForRequestAsync(Guid requesterId, Guid requestId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<SupportActionLog.Row>(new CommandDefinition($"""
            select {SupportActionLog.Columns} from support_actions a join support_requests r on r.id = a.request_id
            where a.request_id = @requestId and r.requester_id = @requesterId order by a.asked_at desc limit 200
            """, new { requesterId, requestId }, cancellationToken: cancellationToken))).Select(r => r.ToRecord()).ToList();
    }

    /// <summary>Every support action in the tenant, newest first: the tenant's timeline.</summary>
    public async Task<IReadOnlyList<SupportActionRecord>> TimelineAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<SupportActionLog.Row>(new CommandDefinition(
            $"select {SupportActionLog.Columns} from support_actions a where a.tenant_id = @tenantId order by a.asked_at desc limit 500",
            new { tenantId }, cancellationToken: cancellationToken))).Select(r => r.ToRecord()).ToList();
    }
}

/// <summary>The support_actions table: its columns, its row, and the commands a request's actions ran as.</summary>
public static class SupportActionLog
{
    public const string Columns = """
        a.id, a.request_id, a.command_id, a.action, a.target, a.asked_by, a.asked_at, a.outcome, a.message, a.completed_at
        """;

    public sealed class Row
    {
        public Guid Id { get; set; }
        public Guid RequestId { get; set; }
        public Guid? CommandId { get; set; }
        public string Action { get; set; } = "";
        public string Target { get; set; } = "";
        public string AskedBy { get; set; } = "";
        public DateTimeOffset AskedAt { get; set; }
        public string Outcome { get; set; } = "";
        public string? Message { get; set; }
        public DateTimeOffset? CompletedAt { get; set; }

        public SupportActionRecord ToRecord() => new(Id, RequestId, CommandId, Action, Target, AskedBy, AskedAt,
            EnumText.Parse<SupportActionOutcome>(Outcome), Message, CompletedAt);
    }

    public static async Task<IReadOnlyList<Guid>> CommandIdsAsync(NpgsqlDataSource dataSource, Guid tenantId, Guid requestId,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Guid>(new CommandDefinition(
            "select command_id from support_actions where tenant_id = @tenantId and request_id = @requestId and command_id is not null",
            new { tenantId, requestId }, cancellationToken: cancellationToken))).ToList();
    }
}
