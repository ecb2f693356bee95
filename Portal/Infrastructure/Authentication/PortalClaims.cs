using System.Security.Claims;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>Claim types the Portal puts in its session, and how to read them.</summary>
public static class PortalClaims
{
    /// <summary>The Portal's own user id (users.id), set at sign-in.</summary>
    public const string UserId = "cogrion:user_id";
    public const string Subject = "sub";
    public const string EmailVerified = "email_verified";
    public const string SessionId = "sid";

    public static Guid? GetUserId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(UserId), out var id) ? id : null;

    public static string? GetUsername(this ClaimsPrincipal principal) => principal.Identity?.Name;

    public static IReadOnlyList<string> GetRoles(this ClaimsPrincipal principal) =>
        principal.FindAll(ClaimTypes.Role).Select(c => c.Value).Distinct().Order(StringComparer.Ordinal).ToList();
}

/// <summary>Authorization policy names. Pages and endpoints refer to these, never to raw roles.</summary>
public static class PortalPolicies
{
    public const string PlatformAdmin = "platform-admin";
}
