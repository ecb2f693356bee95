using System.Security.Claims;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Infrastructure.Authentication;

namespace Cogrion.Portal.Features.Tenants;

public static class ClaimsPrincipalActor
{
    /// <summary>The signed-in person as the actor of an audit event.</summary>
    public static Actor AsActor(this ClaimsPrincipal user) =>
        Actor.User(user.GetUserId() ?? throw new InvalidOperationException("A signed-in user has a Portal user id."), user.GetUsername());
}
