using System.Security.Claims;
using System.Text.Json;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>Turns a validated Keycloak id_token payload into the claims of a Portal session.</summary>
public static class KeycloakClaims
{
    public static IReadOnlyList<Claim> FromIdToken(JsonElement payload, string issuer)
    {
        var claims = new List<Claim>();
        void Add(string type, string? value)
        {
            if (!string.IsNullOrEmpty(value)) claims.Add(new Claim(type, value, ClaimValueTypes.String, issuer));
        }

        var subject = Text(payload, "sub");
        Add(PortalClaims.Subject, subject);
        Add(ClaimTypes.NameIdentifier, subject);
        Add(ClaimTypes.Name, Text(payload, "preferred_username") ?? subject);
        Add(ClaimTypes.Email, Text(payload, "email"));
        Add(PortalClaims.EmailVerified, payload.TryGetProperty("email_verified", out var verified) && verified.ValueKind == JsonValueKind.True ? "true" : "false");
        Add("name", Text(payload, "name"));
        Add(PortalClaims.SessionId, Text(payload, "sid"));
        foreach (var role in RealmRoles(payload))
            Add(ClaimTypes.Role, role);
        return claims;
    }

    /// <summary>Keycloak puts realm roles under <c>realm_access.roles</c>.</summary>
    public static IEnumerable<string> RealmRoles(JsonElement payload)
    {
        if (payload.TryGetProperty("realm_access", out var access)
            && access.ValueKind == JsonValueKind.Object
            && access.TryGetProperty("roles", out var roles)
            && roles.ValueKind == JsonValueKind.Array)
        {
            foreach (var role in roles.EnumerateArray())
                if (role.ValueKind == JsonValueKind.String && role.GetString() is { Length: > 0 } name)
                    yield return name;
        }
    }

    private static string? Text(JsonElement payload, string name) =>
        payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
