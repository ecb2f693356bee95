namespace Cogrion.Portal.Features.Audit;

/// <summary>An event as stored, for reading and export.</summary>
public sealed record AuditEvent(
    long Id,
    DateTimeOffset OccurredAt,
    string ActorKind,
    string ActorId,
    string? ActorName,
    Guid? TenantId,
    string Action,
    string? TargetKind,
    string? TargetId,
    string? RequestId,
    string Details);
