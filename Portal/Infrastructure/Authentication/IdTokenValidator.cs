using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.Authentication;

public sealed class InvalidIdTokenException(string message) : Exception(message);

/// <summary>
/// Validates the id_token the realm's token endpoint returns: signature (RS256 or ES256 against
/// the realm's JWKS), issuer, audience, authorized party and lifetime. OpenID Connect Core 3.1.3.7
/// would allow skipping the signature for this direct TLS response, but a local provider runs on
/// plain http and checking costs one cached key fetch, so we check.
/// See docs/adr/0003-oidc-with-the-oauth-handler.md.
/// </summary>
public sealed class IdTokenValidator(
    IHttpClientFactory httpClientFactory,
    IOptions<KeycloakOptions> options,
    TimeProvider time,
    ILogger<IdTokenValidator> logger)
{
    public const string HttpClientName = "keycloak";
    private static readonly TimeSpan KeyCacheLifetime = TimeSpan.FromMinutes(10);

    private readonly SemaphoreSlim keyFetch = new(1, 1);
    private IReadOnlyDictionary<string, JsonElement> keys = new Dictionary<string, JsonElement>();
    private DateTimeOffset keysFetchedAt = DateTimeOffset.MinValue;

    /// <summary>Returns the token's payload when it is valid; throws <see cref="InvalidIdTokenException"/> otherwise.</summary>
    public async Task<JsonElement> ValidateAsync(string? idToken, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(idToken)) throw new InvalidIdTokenException("The token response contains no id_token.");
        var parts = idToken.Split('.');
        if (parts.Length != 3) throw new InvalidIdTokenException("The id_token is not a signed JWT.");

        var header = ParseSegment(parts[0], "header");
        var payload = ParseSegment(parts[1], "payload");
        var alg = header.TryGetProperty("alg", out var a) ? a.GetString() : null;
        var kid = header.TryGetProperty("kid", out var k) ? k.GetString() : null;

        var key = await FindKeyAsync(kid, cancellationToken)
            ?? throw new InvalidIdTokenException($"The id_token is signed with key '{kid}', which the realm does not publish.");
        var signedBytes = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var signature = Base64Url.DecodeFromChars(parts[2]);
        if (!VerifySignature(alg, key, signedBytes, signature))
            throw new InvalidIdTokenException("The id_token's signature does not verify.");

        CheckClaims(payload);
        return payload;
    }

    private void CheckClaims(JsonElement payload)
    {
        var settings = options.Value;
        var issuer = GetString(payload, "iss");
        if (!string.Equals(issuer, settings.Issuer, StringComparison.Ordinal))
            throw new InvalidIdTokenException($"The id_token was issued by '{issuer}', not by the configured realm '{settings.Issuer}'.");

        var audiences = payload.TryGetProperty("aud", out var aud)
            ? aud.ValueKind == JsonValueKind.Array ? aud.EnumerateArray().Select(e => e.GetString()).ToList() : [aud.GetString()]
            : [];
        if (!audiences.Contains(settings.ClientId))
            throw new InvalidIdTokenException("The id_token is not meant for this client (aud).");
        if (audiences.Count > 1 && GetString(payload, "azp") != settings.ClientId)
            throw new InvalidIdTokenException("The id_token's authorized party (azp) is not this client.");

        var now = time.GetUtcNow();
        var expires = GetTime(payload, "exp") ?? throw new InvalidIdTokenException("The id_token has no expiry (exp).");
        if (expires + settings.ClockSkew < now)
            throw new InvalidIdTokenException("The id_token has expired.");
        if (GetTime(payload, "iat") is { } issuedAt && issuedAt - settings.ClockSkew > now)
            throw new InvalidIdTokenException("The id_token was issued in the future; check the clocks.");
        if (string.IsNullOrWhiteSpace(GetString(payload, "sub")))
            throw new InvalidIdTokenException("The id_token has no subject (sub).");
    }

    private async Task<JsonElement?> FindKeyAsync(string? kid, CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() - keysFetchedAt < KeyCacheLifetime && Lookup(kid) is { } cached) return cached;
        await keyFetch.WaitAsync(cancellationToken);
        try
        {
            // Refetch when the cache is old or the key is unknown (the realm rotated its keys).
            if (time.GetUtcNow() - keysFetchedAt >= KeyCacheLifetime || Lookup(kid) is null)
                await FetchKeysAsync(cancellationToken);
            return Lookup(kid);
        }
        finally
        {
            keyFetch.Release();
        }
    }

    private JsonElement? Lookup(string? kid)
    {
        if (kid is not null) return keys.TryGetValue(kid, out var key) ? key : null;
        return keys.Count == 1 ? keys.Values.First() : null;
    }

    private async Task FetchKeysAsync(CancellationToken cancellationToken)
    {
        var client = httpClientFactory.CreateClient(HttpClientName);
        using var response = await client.GetAsync(options.Value.JwksEndpoint, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidIdTokenException($"The realm's key set could not be fetched (HTTP {(int)response.StatusCode}).");
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var found = new Dictionary<string, JsonElement>();
        foreach (var key in document.RootElement.GetProperty("keys").EnumerateArray())
        {
            if (key.TryGetProperty("use", out var use) && use.GetString() != "sig") continue;
            var id = key.TryGetProperty("kid", out var kidElement) ? kidElement.GetString() ?? "" : "";
            found[id] = key.Clone();
        }
        keys = found;
        keysFetchedAt = time.GetUtcNow();
        logger.LogDebug("Fetched {Count} signing key(s) from the realm", found.Count);
    }

    private static bool VerifySignature(string? alg, JsonElement jwk, byte[] data, byte[] signature)
    {
        switch (alg)
        {
            case "RS256":
                using (var rsa = RSA.Create())
                {
                    rsa.ImportParameters(new RSAParameters
                    {
                        Modulus = Base64Url.DecodeFromChars(GetString(jwk, "n") ?? ""),
                        Exponent = Base64Url.DecodeFromChars(GetString(jwk, "e") ?? ""),
                    });
                    return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                }
            case "ES256":
                using (var ecdsa = ECDsa.Create(new ECParameters
                {
                    Curve = ECCurve.NamedCurves.nistP256,
                    Q = new ECPoint { X = Base64Url.DecodeFromChars(GetString(jwk, "x") ?? ""), Y = Base64Url.DecodeFromChars(GetString(jwk, "y") ?? "") },
                }))
                {
                    return ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256);
                }
            default:
                throw new InvalidIdTokenException($"The id_token uses the unsupported algorithm '{alg}'.");
        }
    }

    private static JsonElement ParseSegment(string segment, string what)
    {
        try
        {
            using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(segment));
            return document.RootElement.Clone();
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new InvalidIdTokenException($"The id_token's {what} is not valid JSON.");
        }
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? GetTime(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt64(out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
