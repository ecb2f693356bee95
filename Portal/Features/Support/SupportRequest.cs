using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Features.Support;

/// <summary>What a grant lets support read: the two scopes of the issue, in the protocol's spelling.</summary>
public enum SupportScope
{
    [EnumText(SupportScopes.Status)] Status,
    [EnumText(SupportScopes.StatusAndLogs)] StatusAndLogs,
}

/// <summary>
/// Where a request stands. <see cref="Expired"/> and <see cref="Ended"/> are never stored: they follow from the
/// clock (unanswered past its answer-by; approved past its not-after), so they hold after any restart.
/// </summary>
public enum SupportRequestStatus { Pending, Approved, Denied, Revoked, Expired, Ended }

/// <summary>What the agent said about the grant it was sent.</summary>
public enum GrantDelivery { Sent, Recorded, Refused }

/// <summary>One support access request, as both the tenant and the requester see it.</summary>
public sealed record SupportRequest(
    Guid Id,
    Guid TenantId,
    string TenantSlug,
    Guid WorkspaceId,
    string WorkspaceName,
    Guid AgentId,
    Guid RequesterId,
    string RequesterName,
    string Reason,
    string? Ticket,
    SupportScope Scope,
    TimeSpan Duration,
    SupportRequestStatus StoredStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset AnswerBy,
    DateTimeOffset? NotBefore,
    DateTimeOffset? NotAfter,
    string? DecidedBy,
    DateTimeOffset? DecidedAt,
    GrantDelivery? Grant,
    string? GrantMessage)
{
    /// <summary>An unanswered request expires after this long (Customer Lockbox's 12 h).</summary>
    public static readonly TimeSpan AnswerWithin = TimeSpan.FromHours(12);

    public static readonly TimeSpan DefaultDuration = TimeSpan.FromHours(4);
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(72);

    public SupportRequestStatus StatusAt(DateTimeOffset now) => StoredStatus switch
    {
        SupportRequestStatus.Pending when AnswerBy <= now => SupportRequestStatus.Expired,
        SupportRequestStatus.Approved when NotAfter <= now => SupportRequestStatus.Ended,
        var stored => stored,
    };

    /// <summary>True while support may act under it, as far as the Portal knows (the agent decides for itself).</summary>
    public bool IsActiveAt(DateTimeOffset now) => StatusAt(now) == SupportRequestStatus.Approved && Grant == GrantDelivery.Recorded
        && NotBefore <= now;

    /// <summary>The grant the approver signs: fixed from the moment the approval starts.</summary>
    public SupportGrant GrantFrom(DateTimeOffset notBefore) => new(Id, TenantId, WorkspaceId, AgentId, RequesterId, Scope.ToDbText(),
        notBefore.ToUnixTimeSeconds(), notBefore.ToUnixTimeSeconds() + (long)Duration.TotalSeconds);
}

/// <summary>One support action in the timeline: what was asked, by whom, when, and whether the agent allowed it.</summary>
public sealed record SupportActionRecord(
    Guid Id,
    Guid RequestId,
    Guid? CommandId,
    string Action,
    string Target,
    string AskedBy,
    DateTimeOffset AskedAt,
    SupportActionOutcome Outcome,
    string? Message,
    DateTimeOffset? CompletedAt);

public enum SupportActionOutcome { Pending, Allowed, Refused, Failed }
