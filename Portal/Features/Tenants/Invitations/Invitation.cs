namespace Cogrion.Portal.Features.Tenants.Invitations;

public enum InvitationStatus { Pending, Expired, Accepted, Revoked }

public sealed record Invitation(
    Guid Id,
    Guid TenantId,
    string Email,
    TenantRole Role,
    DateTimeOffset CreatedAt,
    DateTimeOffset SentAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? AcceptedAt,
    DateTimeOffset? RevokedAt,
    string? InvitedBy,
    string? AcceptedBy)
{
    public InvitationStatus StatusAt(DateTimeOffset now) =>
        AcceptedAt is not null ? InvitationStatus.Accepted
        : RevokedAt is not null ? InvitationStatus.Revoked
        : ExpiresAt <= now ? InvitationStatus.Expired
        : InvitationStatus.Pending;

    /// <summary>Still open: it can be resent or revoked (an expired one is resent to revive it).</summary>
    public bool IsOpen => AcceptedAt is null && RevokedAt is null;
}
