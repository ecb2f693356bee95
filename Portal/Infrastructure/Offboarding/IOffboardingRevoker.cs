using Npgsql;

namespace Cogrion.Portal.Infrastructure.Offboarding;

/// <summary>
/// A kind of access that offboarding must end for a leaving tenant (and its subtree), owned by another feature: support grants (issue 16)
/// implement it, so the offboarding feature revokes them without depending on that feature. Called inside the revocation step's
/// transaction, with that transaction's audit events; must be idempotent (the step may run again after a crash).
/// </summary>
public interface IOffboardingRevoker
{
    /// <summary>Ends this kind of access for the tenants; returns what it ended, in words for the progress page and the certificate.</summary>
    Task<IReadOnlyList<string>> RevokeAsync(IReadOnlyList<Guid> tenantIds, Audit.Actor actor, NpgsqlTransaction transaction,
        CancellationToken cancellationToken);
}
