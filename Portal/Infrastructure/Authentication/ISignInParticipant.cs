using Npgsql;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>
/// Something that must happen when a person signs in, in the same transaction that records the
/// sign-in (binding their pending tenant invitations, for one). If it fails, the sign-in fails and
/// nothing of it is kept.
/// </summary>
public interface ISignInParticipant
{
    Task OnSignedInAsync(PortalUser user, NpgsqlTransaction transaction, CancellationToken cancellationToken);
}
