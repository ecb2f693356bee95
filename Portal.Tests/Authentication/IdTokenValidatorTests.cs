using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Cogrion.Portal.Infrastructure.Authentication;

namespace Cogrion.Portal.Tests.Authentication;

/// <summary>
/// The validation rules, one per test. The realm's key set is served by an in-memory handler here;
/// the browser tests run the same validator against the real dev identity provider.
/// </summary>
public sealed class IdTokenValidatorTests
{
    private static readonly KeycloakOptions Settings = new()
    {
        Authority = "http://idp.test", Realm = "cogrion", ClientId = "cogrion-portal", ClientSecret = "x-secret",
    };

    private readonly RSA realmKey = RSA.Create(2048);
    private readonly JwksHandler jwks = new();

    public IdTokenValidatorTests() => jwks.Keys = [Jwk(realmKey, "k1")];

    private IdTokenValidator Validator() =>
        new(new SingleClientFactory(jwks), Options.Create(Settings), TimeProvider.System, NullLogger<IdTokenValidator>.Instance);

    private static Dictionary<string, object> ValidClaims() => new()
    {
        ["iss"] = "http://idp.test/realms/cogrion",
        ["aud"] = "cogrion-portal",
        ["sub"] = "user-1",
        ["exp"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(),
        ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["preferred_username"] = "alice",
        ["realm_access"] = new { roles = new[] { "platform-admin", "offline_access" } },
    };

    [Fact]
    public async Task A_token_signed_by_the_realm_for_this_client_is_accepted()
    {
        var payload = await Validator().ValidateAsync(Sign(ValidClaims(), realmKey, "k1"), CancellationToken.None);

        Assert.Equal("alice", payload.GetProperty("preferred_username").GetString());
        Assert.Contains("platform-admin", KeycloakClaims.RealmRoles(payload));
    }

    [Fact]
    public async Task A_token_signed_by_another_key_is_refused()
    {
        using var forger = RSA.Create(2048);
        var error = await Assert.ThrowsAsync<InvalidIdTokenException>(() => Validator().ValidateAsync(Sign(ValidClaims(), forger, "k1"), CancellationToken.None));
        Assert.Contains("signature", error.Message);
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_refused()
    {
        var claims = ValidClaims();
        claims["iss"] = "http://idp.test/realms/other";
        var error = await Assert.ThrowsAsync<InvalidIdTokenException>(() => Validator().ValidateAsync(Sign(claims, realmKey, "k1"), CancellationToken.None));
        Assert.Contains("issued by", error.Message);
    }

    [Fact]
    public async Task A_token_for_another_client_is_refused()
    {
        var claims = ValidClaims();
        claims["aud"] = "someone-else";
        var error = await Assert.ThrowsAsync<InvalidIdTokenException>(() => Validator().ValidateAsync(Sign(claims, realmKey, "k1"), CancellationToken.None));
        Assert.Contains("aud", error.Message);
    }

    [Fact]
    public async Task A_token_with_several_audiences_needs_this_client_as_authorized_party()
    {
        var claims = ValidClaims();
        claims["aud"] = new[] { "cogrion-portal", "account" };
        claims["azp"] = "account";
        var error = await Assert.ThrowsAsync<InvalidIdTokenException>(() => Validator().ValidateAsync(Sign(claims, realmKey, "k1"), CancellationToken.None));
        Assert.Contains("azp", error.Message);
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var claims = ValidClaims();
        claims["exp"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds();
        var error = await Assert.ThrowsAsync<InvalidIdTokenException>(() => Validator().ValidateAsync(Sign(claims, realmKey, "k1"), CancellationToken.None));
        Assert.Contains("expired", error.Message);
    }

    [Fact]
    public async Task An_unsigned_token_is_refused()
    {
        var header = B64(JsonSerializer.SerializeToUtf8Bytes(new { alg = "none", kid = "k1" }));
        var body = B64(JsonSerializer.SerializeToUtf8Bytes(ValidClaims()));
        await Assert.ThrowsAsync<InvalidIdTokenException>(() => Validator().ValidateAsync($"{header}.{body}.", CancellationToken.None));
    }

    [Fact]
    public async Task A_rotated_realm_key_is_fetched_when_a_token_names_it()
    {
        var validator = Validator();
        await validator.ValidateAsync(Sign(ValidClaims(), realmKey, "k1"), CancellationToken.None);
        using var next = RSA.Create(2048);
        jwks.Keys = [Jwk(realmKey, "k1"), Jwk(next, "k2")];

        var payload = await validator.ValidateAsync(Sign(ValidClaims(), next, "k2"), CancellationToken.None);

        Assert.Equal("user-1", payload.GetProperty("sub").GetString());
        Assert.Equal(2, jwks.Requests);
    }

    private static string Sign(object claims, RSA key, string kid)
    {
        var header = B64(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT", kid }));
        var body = B64(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = key.SignData(Encoding.ASCII.GetBytes($"{header}.{body}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{body}.{B64(signature)}";
    }

    private static object Jwk(RSA key, string kid)
    {
        var p = key.ExportParameters(false);
        return new { kty = "RSA", use = "sig", alg = "RS256", kid, n = B64(p.Modulus!), e = B64(p.Exponent!) };
    }

    private static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);

    private sealed class JwksHandler : HttpMessageHandler
    {
        public object[] Keys { get; set; } = [];
        public int Requests { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests++;
            Assert.Equal("http://idp.test/realms/cogrion/protocol/openid-connect/certs", request.RequestUri!.ToString());
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(JsonSerializer.Serialize(new { keys = Keys })) });
        }
    }

    private sealed class SingleClientFactory(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }
}
