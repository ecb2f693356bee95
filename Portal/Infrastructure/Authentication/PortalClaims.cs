using System.Security.Claims;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>Claim types the Portal puts in its session, and how to read them.</summary>
public static class PortalClaims
{
    /// <summary>The Portal's own user id (users.id), set at sign-in.</summary>
    public const string UserId = "cogrion:user_id";
    public const string Subject = "sub";
    public const string EmailVerified = "email_verified";
    /// <summary>Keycloak's session id (the id_token's <c>sid</c>): what a back-channel logout names.</summary>
    public const string SessionId = "sid";
    /// <summary>
    /// Which server-side session this principal was read from (the SHA-256 of its key, hex; not a
    /// secret). Added when the session is read, so a Blazor circuit knows which end to listen for.
    /// </summary>
    public const string ServerSession = "cogrion:session";
    /// <summary>On the anonymous principal a circuit gets when its session ended under it: the page says so instead of navigating.</summary>
    public const string SessionEnded = "cogrion:session_ended";

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
