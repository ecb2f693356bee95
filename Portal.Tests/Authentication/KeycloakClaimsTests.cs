using System.Security.Claims;
using Cogrion.Portal.Infrastructure.Authentication;

namespace Cogrion.Portal.Tests.Authentication;

/// <summary>
/// Keycloak's roles arrive as JSON claims (realm_access, resource_access) from the OpenID Connect
/// handler; each becomes one role claim. The browser tests sign in admin (a realm role) and frank
/// (a client role) through the real handler and the dev IdP.
/// </summary>
public sealed class KeycloakClaimsTests
{
    private static ClaimsIdentity Map(params Claim[] claims)
        => KeycloakClaims.ToPortalIdentity(claims, "cogrion-portal", "http://idp.test/realms/cogrion");

    private static Claim Json(string type, string json) => new(type, json, "JSON");

    [Fact]
    public void Realm_roles_are_expanded_from_the_realm_access_json_claim()
    {
        var identity = Map(new Claim("sub", "u1"), Json("realm_access", """{"roles":["platform-admin","offline_access"]}"""));

        Assert.True(new ClaimsPrincipal(identity).IsInRole("platform-admin"));
        Assert.Equal(["offline_access", "platform-admin"], new ClaimsPrincipal(identity).GetRoles());
    }

    [Fact]
    public void Roles_of_this_client_count_and_roles_of_other_clients_do_not()
    {
        var identity = Map(new Claim("sub", "u1"),
            Json("resource_access", """{"cogrion-portal":{"roles":["platform-admin"]},"account":{"roles":["manage-account"]}}"""));

        Assert.Equal(["platform-admin"], new ClaimsPrincipal(identity).GetRoles());
    }

    [Fact]
    public void Malformed_role_claims_grant_nothing()
    {
        var identity = Map(new Claim("sub", "u1"), Json("realm_access", "not json"),
            Json("resource_access", """{"cogrion-portal":"platform-admin"}"""));

        Assert.Empty(new ClaimsPrincipal(identity).GetRoles());
    }

    [Fact]
    public void The_person_is_named_by_username_with_subject_email_and_realm_session()
    {
        var identity = Map(new Claim("sub", "u1"), new Claim("preferred_username", "alice"), new Claim("email", "alice@example.com"),
            new Claim("email_verified", "true"), new Claim("sid", "s-1"));

        Assert.Equal("alice", identity.Name);
        Assert.Equal("u1", identity.FindFirst(PortalClaims.Subject)?.Value);
        Assert.Equal("alice@example.com", identity.FindFirst(ClaimTypes.Email)?.Value);
        Assert.Equal("true", identity.FindFirst(PortalClaims.EmailVerified)?.Value);
        Assert.Equal("s-1", identity.FindFirst(PortalClaims.SessionId)?.Value);
    }
}
