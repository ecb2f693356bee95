using System.Security.Claims;
using System.Text.Json;

namespace Cogrion.Portal.Infrastructure.Authentication;

/// <summary>
/// Turns the claims of a validated Keycloak id_token (as the OpenID Connect handler hands them over,
/// with their JWT names) into the claims of a Portal session. Keycloak's roles arrive as JSON:
/// realm roles in <c>realm_access.roles</c>, client roles in <c>resource_access.&lt;client&gt;.roles</c>;
/// both are expanded here into one role claim each.
/// </summary>
public static class KeycloakClaims
{
    public const string AuthenticationType = "keycloak";

    public static ClaimsIdentity ToPortalIdentity(IEnumerable<Claim> tokenClaims, string clientId, string issuer)
    {
        var token = tokenClaims.ToList();
        string? First(string type) => token.FirstOrDefault(c => c.Type == type)?.Value;

        var claims = new List<Claim>();
        void Add(string type, string? value)
        {
            if (!string.IsNullOrEmpty(value)) claims.Add(new Claim(type, value, ClaimValueTypes.String, issuer));
        }

        var subject = First("sub");
        Add(PortalClaims.Subject, subject);
        Add(ClaimTypes.NameIdentifier, subject);
        Add(ClaimTypes.Name, First("preferred_username") ?? subject);
        Add(ClaimTypes.Email, First("email"));
        Add(PortalClaims.EmailVerified, string.Equals(First("email_verified"), "true", StringComparison.OrdinalIgnoreCase) ? "true" : "false");
        Add("name", First("name"));
        Add(PortalClaims.SessionId, First("sid"));
        foreach (var role in RealmRoles(First("realm_access")).Concat(ClientRoles(First("resource_access"), clientId))
            .Distinct(StringComparer.Ordinal))
            Add(ClaimTypes.Role, role);
        return new ClaimsIdentity(claims, AuthenticationType, ClaimTypes.Name, ClaimTypes.Role);
    }

    /// <summary>Keycloak's realm roles: <c>{"roles": [...]}</c>.</summary>
    public static IEnumerable<string> RealmRoles(string? realmAccessJson) => RolesIn(realmAccessJson, null);

    /// <summary>This client's roles: <c>{"&lt;client id&gt;": {"roles": [...]}, ...}</c>; other clients' roles are not ours to read.</summary>
    public static IEnumerable<string> ClientRoles(string? resourceAccessJson, string clientId) => RolesIn(resourceAccessJson, clientId);

    private static List<string> RolesIn(string? json, string? client)
    {
        var roles = new List<string>();
        if (string.IsNullOrWhiteSpace(json)) return roles;
        try
        {
            using var document = JsonDocument.Parse(json);
            var access = document.RootElement;
            if (client is not null && (access.ValueKind != JsonValueKind.Object || !access.TryGetProperty(client, out access))) return roles;
            if (access.ValueKind == JsonValueKind.Object && access.TryGetProperty("roles", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var role in list.EnumerateArray())
                    if (role.ValueKind == JsonValueKind.String && role.GetString() is { Length: > 0 } name) roles.Add(name);
            }
        }
        catch (JsonException)
        {
            // A realm that sends something else under these names grants no roles.
        }
        return roles;
    }
}
