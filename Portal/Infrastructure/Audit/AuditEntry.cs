namespace Cogrion.Portal.Infrastructure.Audit;

/// <summary>
/// One change to record. <paramref name="Action"/> is a dotted verb such as <c>tenant.created</c>;
/// <paramref name="Details"/> is any object serialisable to JSON and is passed through the
/// <see cref="SecretRedactor"/> before it is stored.
/// </summary>
public sealed record AuditEntry(
    Actor Actor,
    string Action,
    Guid? TenantId = null,
    string? TargetKind = null,
    string? TargetId = null,
    object? Details = null);
