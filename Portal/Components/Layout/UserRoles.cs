using System.Security.Claims;
using Cogrion.Portal.Infrastructure.Authentication;

namespace Cogrion.Portal.Components.Layout;

/// <summary>The roles worth showing next to a person's name.</summary>
public static class UserRoles
{
    // Keycloak gives every user a few housekeeping roles; they tell the reader nothing.
    private static readonly HashSet<string> HousekeepingRoles = ["offline_access", "uma_authorization"];

    public static IEnumerable<string> Visible(ClaimsPrincipal user) =>
        user.GetRoles().Where(r => !HousekeepingRoles.Contains(r) && !r.StartsWith("default-roles-", StringComparison.Ordinal));
}
