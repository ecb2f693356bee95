using System.Diagnostics;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Audit;

/// <summary>
/// The one way to record a change. Write the event in the same transaction as the change
/// itself, so there is never a change without its event or an event without its change.
/// </summary>
public sealed class AuditLog(
    NpgsqlDataSource dataSource,
    SecretRedactor redactor,
    TimeProvider time,
    IHttpContextAccessor httpContextAccessor)
{
    /// <summary>Records an event in a transaction of its own, for changes that happen outside the database (a sign-in).</summary>
    public async Task RecordAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await RecordAsync(entry, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Records an event inside the caller's transaction.</summary>
    public async Task RecordAsync(AuditEntry entry, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(entry.Action);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has no open connection.");

        // One writer per chain at a time, so that "the previous hash" is well defined.
        await connection.ExecuteAsync(new CommandDefinition(
            "select pg_advisory_xact_lock(hashtextextended('audit-chain:' || coalesce(@TenantId::text, 'platform'), 0))",
            new { entry.TenantId }, transaction, cancellationToken: cancellationToken));

        await connection.ExecuteAsync(new CommandDefinition($"""
            with previous as (
                select hash from audit_events
                where {ChainOf(entry.TenantId)}
                order by id desc limit 1
            ), event as (
                select @OccurredAt::timestamptz as occurred_at, @ActorKind as actor_kind, @ActorId as actor_id,
                       @ActorName as actor_name, @TenantId::uuid as tenant_id, @Action as action,
                       @TargetKind as target_kind, @TargetId as target_id, @RequestId as request_id,
                       @Details::jsonb as details
            )
            insert into audit_events (occurred_at, actor_kind, actor_id, actor_name, tenant_id, action,
                                      target_kind, target_id, request_id, details, prev_hash, hash)
            select e.occurred_at, e.actor_kind, e.actor_id, e.actor_name, e.tenant_id, e.action,
                   e.target_kind, e.target_id, e.request_id, e.details, p.hash,
                   sha256(coalesce(p.hash, ''::bytea) || convert_to(audit_event_payload(
                       e.occurred_at, e.actor_kind, e.actor_id, e.actor_name, e.tenant_id, e.action,
                       e.target_kind, e.target_id, e.request_id, e.details), 'UTF8'))
            from event e left join previous p on true
            """,
            new
            {
                OccurredAt = time.GetUtcNow(),
                ActorKind = entry.Actor.KindText,
                ActorId = redactor.RedactText(entry.Actor.Id),
                ActorName = redactor.RedactText(entry.Actor.Name),
                entry.TenantId,
                Action = entry.Action,
                TargetKind = entry.TargetKind,
                TargetId = redactor.RedactText(entry.TargetId),
                RequestId = CurrentRequestId(),
                Details = redactor.RedactToJson(entry.Details),
            },
            transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The predicate that selects one chain. Spelled as "=" or "is null" rather than "is not distinct
    /// from", which no index can answer (see migration 0005).
    /// </summary>
    internal static string ChainOf(Guid? tenantId) => tenantId is null ? "tenant_id is null" : "tenant_id = @TenantId";

    private string? CurrentRequestId() =>
        Activity.Current?.TraceId.ToHexString() ?? httpContextAccessor.HttpContext?.TraceIdentifier;
}
