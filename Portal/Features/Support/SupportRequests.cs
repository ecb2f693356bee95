using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Support;

/// <summary>A platform admin's request, as the form sends it.</summary>
public sealed record NewSupportRequest(Guid TenantId, Guid WorkspaceId, string? Reason, string? Ticket, SupportScope Scope, int DurationHours);

/// <summary>
/// The life of a support request in the Portal: asked by a platform admin, approved (with a passkey assertion the
/// agent checks), denied or revoked by a tenant admin, expired or ended by the clock. Every step is an audit event
/// in the tenant's trail, in the transaction of the change; every query takes the tenant (or the requester).
/// </summary>
public sealed class SupportRequests(
    NpgsqlDataSource dataSource,
    AgentRegistry agents,
    AgentCommandQueue commands,
    SupportApprovers approvers,
    AuditLog audit,
    TimeProvider time,
    ILogger<SupportRequests> logger)
{
    /// <summary>How far a signed not-before may be from the Portal's clock when the approval arrives.</summary>
    private static readonly TimeSpan ApprovalSkew = TimeSpan.FromMinutes(5);

    private const string Columns = """
        r.id, r.tenant_id, t.slug as tenant_slug, r.workspace_id, coalesce(w.name, '(removed)') as workspace_name, r.agent_id, r.requester_id,
        r.requester_name, r.reason, r.ticket, r.scope, r.duration_minutes, r.status, r.created_at, r.answer_by, r.not_before, r.not_after,
        r.decided_by, r.decided_at, r.grant_status, r.grant_message
        from support_requests r join tenants t on t.id = r.tenant_id left join workspaces w on w.id = r.workspace_id
        """;

    /// <summary>A row as Dapper fills it (settable properties, so its type handlers convert timestamptz).</summary>
    private sealed class Row
    {
        public Guid Id { get; set; }
        public Guid TenantId { get; set; }
        public string TenantSlug { get; set; } = "";
        public Guid WorkspaceId { get; set; }
        public string WorkspaceName { get; set; } = "";
        public Guid AgentId { get; set; }
        public Guid RequesterId { get; set; }
        public string RequesterName { get; set; } = "";
        public string Reason { get; set; } = "";
        public string? Ticket { get; set; }
        public string Scope { get; set; } = "";
        public int DurationMinutes { get; set; }
        public string Status { get; set; } = "";
        public DateTimeOffset CreatedAt { get; set; }
        public DateTimeOffset AnswerBy { get; set; }
        public DateTimeOffset? NotBefore { get; set; }
        public DateTimeOffset? NotAfter { get; set; }
        public string? DecidedBy { get; set; }
        public DateTimeOffset? DecidedAt { get; set; }
        public string? GrantStatus { get; set; }
        public string? GrantMessage { get; set; }

        public SupportRequest ToRequest() => new(Id, TenantId, TenantSlug, WorkspaceId, WorkspaceName, AgentId, RequesterId, RequesterName, Reason,
            Ticket, EnumText.Parse<SupportScope>(Scope), TimeSpan.FromMinutes(DurationMinutes), EnumText.Parse<SupportRequestStatus>(Status),
            CreatedAt, AnswerBy, NotBefore, NotAfter, DecidedBy, DecidedAt,
            GrantStatus is null ? null : EnumText.Parse<GrantDelivery>(GrantStatus), GrantMessage);
    }

    public async Task<IReadOnlyList<SupportRequest>> ListForTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} where r.tenant_id = @tenantId order by r.created_at desc limit 200",
            new { tenantId }, cancellationToken: cancellationToken))).Select(r => r.ToRequest()).ToList();
    }

    public async Task<IReadOnlyList<SupportRequest>> ListForRequesterAsync(Guid requesterId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} where r.requester_id = @requesterId order by r.created_at desc limit 200",
            new { requesterId }, cancellationToken: cancellationToken))).Select(r => r.ToRequest()).ToList();
    }

    /// <summary>One request of the tenant; null for another tenant's id.</summary>
    public async Task<SupportRequest?> GetForTenantAsync(Guid tenantId, Guid requestId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns} where r.tenant_id = @tenantId and r.id = @requestId",
            new { tenantId, requestId }, cancellationToken: cancellationToken)))?.ToRequest();
    }

    /// <summary>One request of the requester; null for anyone else's.</summary>
    public async Task<SupportRequest?> GetForRequesterAsync(Guid requesterId, Guid requestId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns} where r.requester_id = @requesterId and r.id = @requestId",
            new { requesterId, requestId }, cancellationToken: cancellationToken)))?.ToRequest();
    }

    /// <summary>The workspaces a platform admin may ask access to: every workspace with an active agent.</summary>
    public async Task<IReadOnlyList<SupportTarget>> TargetsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<SupportTarget>(new CommandDefinition("""
            select distinct t.id as tenant_id, t.slug as tenant_slug, w.id as workspace_id, w.name as workspace_name
            from workspaces w join tenants t on t.id = w.tenant_id
            join agents a on a.workspace_id = w.id and a.tenant_id = w.tenant_id and a.status = 'active'
            where w.status <> 'destroyed'
            order by t.slug, w.name
            """, cancellationToken: cancellationToken))).ToList();
    }

    public async Task<CommandResult<SupportRequest>> RequestAsync(NewSupportRequest request, Guid requesterId, string requesterName, Actor actor,
        CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var reason = request.Reason?.Trim() ?? "";
        var ticket = string.IsNullOrWhiteSpace(request.Ticket) ? null : request.Ticket.Trim();
        if (reason.Length < 10) errors.Add("reason", "Say why you need access (at least 10 characters): the tenant reads it before approving.");
        if (reason.Length > 1000) errors.Add("reason", "Keep the reason under 1000 characters.");
        if (ticket is { Length: > 100 }) errors.Add("ticket", "A ticket reference is at most 100 characters.");
        if (request.DurationHours < 1 || request.DurationHours > SupportRequest.MaxDuration.TotalHours)
            errors.Add("duration", $"Between 1 and {SupportRequest.MaxDuration.TotalHours:0} hours.");
        if (!Enum.IsDefined(request.Scope)) errors.Add("scope", "Choose status, or status and logs.");
        var agent = (await agents.ListForWorkspaceAsync(request.TenantId, request.WorkspaceId, cancellationToken))
            .FirstOrDefault(a => a.Status == "active");
        if (agent is null) errors.Add("workspace", "The workspace has no active Cluster Agent: support access runs through it.");
        if (!errors.IsEmpty) return CommandResult<SupportRequest>.Invalid(errors);

        var id = Guid.CreateVersion7();
        var now = time.GetUtcNow();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into support_requests (id, tenant_id, workspace_id, agent_id, requester_id, requester_name, reason, ticket, scope,
                                              duration_minutes, status, created_at, answer_by)
                values (@id, @TenantId, @WorkspaceId, @agentId, @requesterId, @requesterName, @reason, @ticket, @scope, @minutes, 'pending',
                        @now, @answerBy)
                """, new
            {
                id,
                request.TenantId,
                request.WorkspaceId,
                agentId = agent!.Id,
                requesterId,
                requesterName,
                reason,
                ticket,
                scope = request.Scope.ToDbText(),
                minutes = request.DurationHours * 60,
                now,
                answerBy = now + SupportRequest.AnswerWithin,
            }, transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(actor, "support.requested", request.TenantId, "support_request", id.ToString(), new
            {
                request.WorkspaceId,
                reason,
                ticket,
                scope = request.Scope.ToDbText(),
                durationHours = request.DurationHours,
                answerBy = now + SupportRequest.AnswerWithin,
            }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        logger.LogInformation("Support access {RequestId} requested by {Requester} for workspace {WorkspaceId}", id, requesterName,
            request.WorkspaceId);
        return CommandResult<SupportRequest>.Ok((await GetForRequesterAsync(requesterId, id, cancellationToken))!);
    }

    /// <summary>
    /// Why <paramref name="approverId"/> may not approve the request now, or null. The requester never approves their
    /// own request (the agent refuses it too: it knows each approver key's user).
    /// </summary>
    public string? ApprovalRefusal(SupportRequest request, Guid approverId)
    {
        if (request.RequesterId == approverId) return "You asked for this access: another tenant admin must approve it.";
        var status = request.StatusAt(time.GetUtcNow());
        return status == SupportRequestStatus.Pending ? null : $"The request is {status.ToDbText()}; only a pending request can be approved.";
    }

    /// <summary>The grant an approval signs, from now; the page keeps it until the passkey has signed.</summary>
    public SupportGrant ProposeGrant(SupportRequest request) => request.GrantFrom(time.GetUtcNow());

    /// <summary>
    /// Records an approval and relays it to the agent. The Portal checks the assertion with the same code as the
    /// agent (so a mistake is said at once), but the agent's check is the one that counts.
    /// </summary>
    public async Task<CommandResult<SupportRequest>> ApproveAsync(Guid tenantId, Guid requestId, SupportGrant grant, WebAuthnAssertion assertion,
        Guid approverId, Actor actor, CancellationToken cancellationToken)
    {
        var request = await GetForTenantAsync(tenantId, requestId, cancellationToken);
        if (request is null) return CommandResult<SupportRequest>.NotFound();
        if (ApprovalRefusal(request, approverId) is { } refusal) return CommandResult<SupportRequest>.Invalid("approval", refusal);
        var now = time.GetUtcNow();
        var expected = request.GrantFrom(DateTimeOffset.FromUnixTimeSeconds(grant.NotBefore));
        if (grant != expected || Math.Abs(grant.NotBefore - now.ToUnixTimeSeconds()) > ApprovalSkew.TotalSeconds)
            return CommandResult<SupportRequest>.Invalid("approval", "The signed grant is not this request's, or it was signed too long ago.");
        var set = await approvers.PublishedAsync(tenantId, cancellationToken);
        if (set is null) return CommandResult<SupportRequest>.Invalid("approval", "The tenant has no approver passkeys yet.");
        if (!WebAuthnVerifier.TryVerify(assertion, set, grant.Challenge(), out var approver, out var why))
            return CommandResult<SupportRequest>.Invalid("approval", $"The approval does not verify: {why}.");
        if (approver!.UserId != approverId)
            return CommandResult<SupportRequest>.Invalid("approval", "Approve with a passkey of your own.");

        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var updated = await connection.ExecuteAsync(new CommandDefinition("""
                update support_requests set status = 'approved', not_before = @notBefore, not_after = @notAfter, decided_by = @by, decided_at = @now,
                                            grant_status = 'sent'
                where id = @requestId and tenant_id = @tenantId and status = 'pending' and answer_by > @now
                """, new
            {
                requestId,
                tenantId,
                notBefore = DateTimeOffset.FromUnixTimeSeconds(grant.NotBefore),
                notAfter = DateTimeOffset.FromUnixTimeSeconds(grant.NotAfter),
                by = actor.Name ?? actor.Id,
                now,
            }, transaction, cancellationToken: cancellationToken));
            if (updated == 0) return CommandResult<SupportRequest>.Invalid("approval", "The request was answered meanwhile, or it expired.");
            await audit.RecordAsync(new AuditEntry(actor, "support.approved", tenantId, "support_request", requestId.ToString(), new
            {
                request.WorkspaceId,
                requester = request.RequesterName,
                scope = grant.Scope,
                notBefore = DateTimeOffset.FromUnixTimeSeconds(grant.NotBefore),
                notAfter = DateTimeOffset.FromUnixTimeSeconds(grant.NotAfter),
                credential = approver.CredentialId,
            }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        // The agent must hold the approver set the approval is checked against: every published version, in order
        // (each endorsed by the one before), goes first; one command per version and agent, so asking twice costs nothing.
        await approvers.SendToAgentAsync(tenantId, request.AgentId, actor, cancellationToken);
        var payload = JsonSerializer.SerializeToNode(new SupportGrantPayload(grant, assertion), ProtocolJson.Default.SupportGrantPayload)!.AsObject();
        await commands.EnqueueAsync(new NewAgentCommand(tenantId, request.AgentId, CommandTypes.SupportGrant, payload, $"support-grant:{requestId:N}",
            Lifetime: DateTimeOffset.FromUnixTimeSeconds(grant.NotAfter) - now), actor, cancellationToken);
        return CommandResult<SupportRequest>.Ok((await GetForTenantAsync(tenantId, requestId, cancellationToken))!);
    }

    /// <summary>Denies a pending request; the agent is told too, so an approval relayed for it later is refused.</summary>
    public Task<CommandResult<SupportRequest>> DenyAsync(Guid tenantId, Guid requestId, Actor actor, CancellationToken cancellationToken) =>
        EndAsync(tenantId, requestId, SupportRequestStatus.Pending, SupportRequestStatus.Denied, "support.denied", actor, cancellationToken);

    /// <summary>Revokes an approved grant: the agent ends it at its next poll (at once when it is online).</summary>
    public Task<CommandResult<SupportRequest>> RevokeAsync(Guid tenantId, Guid requestId, Actor actor, CancellationToken cancellationToken) =>
        EndAsync(tenantId, requestId, SupportRequestStatus.Approved, SupportRequestStatus.Revoked, "support.revoked", actor, cancellationToken);

    private async Task<CommandResult<SupportRequest>> EndAsync(Guid tenantId, Guid requestId, SupportRequestStatus from, SupportRequestStatus to,
        string action, Actor actor, CancellationToken cancellationToken)
    {
        var request = await GetForTenantAsync(tenantId, requestId, cancellationToken);
        if (request is null) return CommandResult<SupportRequest>.NotFound();
        var now = time.GetUtcNow();
        if (request.StatusAt(now) != from)
            return CommandResult<SupportRequest>.Invalid("request", $"The request is {request.StatusAt(now).ToDbText()}.");
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var updated = await connection.ExecuteAsync(new CommandDefinition("""
                update support_requests set status = @to, decided_by = coalesce(@by, decided_by), decided_at = @now
                where id = @requestId and tenant_id = @tenantId and status = @from
                """, new { requestId, tenantId, to = to.ToDbText(), from = from.ToDbText(), by = actor.Name ?? actor.Id, now },
                transaction, cancellationToken: cancellationToken));
            if (updated == 0) return CommandResult<SupportRequest>.Invalid("request", "The request changed meanwhile.");
            await audit.RecordAsync(new AuditEntry(actor, action, tenantId, "support_request", requestId.ToString(),
                new { request.WorkspaceId, requester = request.RequesterName }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        // What support read under a revoked grant goes now, not at the next housekeeping round.
        if (to == SupportRequestStatus.Revoked)
            await commands.ForgetOutputsAsync(tenantId, await SupportActionLog.CommandIdsAsync(dataSource, tenantId, requestId, cancellationToken),
                cancellationToken);
        var reason = $"{to.ToDbText()} by {actor.Name ?? actor.Id}";
        var payload = JsonSerializer.SerializeToNode(new SupportRevokePayload(requestId, reason), ProtocolJson.Default.SupportRevokePayload)!
            .AsObject();
        // A revoke must outlive the grant it ends, and a denial must outlive the time an approval could still arrive.
        var lifetime = (request.NotAfter ?? request.AnswerBy) - now;
        await commands.EnqueueAsync(new NewAgentCommand(tenantId, request.AgentId, CommandTypes.SupportRevoke, payload, $"support-end:{requestId:N}",
            lifetime > TimeSpan.FromHours(1) ? lifetime : TimeSpan.FromHours(1)), actor, cancellationToken);
        return CommandResult<SupportRequest>.Ok((await GetForTenantAsync(tenantId, requestId, cancellationToken))!);
    }

    /// <summary>
    /// Records, once each, what the clock decided (a request expired unanswered, a grant ended), and deletes what
    /// support read under grants that ended. Idempotent; any replica may run it; a missed run changes nothing the
    /// pages show, since both states are read-time rules.
    /// </summary>
    public async Task<int> RecordClockEndingsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var ended = new List<(Guid TenantId, Guid RequestId)>();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var rows = await connection.QueryAsync<(Guid Id, Guid TenantId, string Status)>(new CommandDefinition("""
                update support_requests set expiry_recorded = true
                where not expiry_recorded and ((status = 'pending' and answer_by <= @now) or (status = 'approved' and not_after <= @now)
                                               or status in ('revoked', 'denied'))
                returning id, tenant_id, status
                """, new { now }, transaction, cancellationToken: cancellationToken));
            foreach (var (id, tenantId, status) in rows)
            {
                if (status is "pending" or "approved")
                    await audit.RecordAsync(new AuditEntry(Actor.System("support"), status == "pending" ? "support.expired" : "support.ended",
                        tenantId, "support_request", id.ToString(), new { at = now }), transaction, cancellationToken);
                if (status is "approved" or "revoked") ended.Add((tenantId, id));
            }
            await transaction.CommitAsync(cancellationToken);
        }
        foreach (var (tenantId, requestId) in ended)
        {
            var commandIds = await SupportActionLog.CommandIdsAsync(dataSource, tenantId, requestId, cancellationToken);
            await commands.ForgetOutputsAsync(tenantId, commandIds, cancellationToken);
        }
        return ended.Count;
    }
}

/// <summary>A workspace support may ask access to.</summary>
public sealed record SupportTarget(Guid TenantId, string TenantSlug, Guid WorkspaceId, string WorkspaceName);
