// base64url without padding (RFC 7515 §2) is the BCL's System.Buffers.Text.Base64Url.
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Cogrion.Agent.Protocol;

/// <summary>
/// Compact JWS with ES256 (ECDSA P-256, SHA-256, IEEE P1363 signature): the one signature format of
/// the protocol, for client assertions (agent → Portal) and commands (Portal → agent). Written out
/// here because no JOSE library is on our feed, and ~80 lines are easier to review than a dependency.
/// Only ES256 is accepted: the header's "alg" is checked, never trusted to choose an algorithm.
/// </summary>
public static class Jws
{
    public const string Algorithm = "ES256";

    public static string Sign<T>(T payload, JsonTypeInfo<T> typeInfo, string type, string? keyId, ECDsa key)
    {
        var header = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new JwsHeader(Algorithm, type, keyId),
            ProtocolJson.Default.JwsHeader));
        var body = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(payload, typeInfo));
        var signingInput = Encoding.ASCII.GetBytes(header + "." + body);
        var signature = key.SignData(signingInput, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return header + "." + body + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>Reads the header and payload without checking anything: only to find which key should verify it.</summary>
    public static bool TryReadUnverified<T>(string? jws, JsonTypeInfo<T> typeInfo, out JwsHeader? header, out T? payload)
    {
        header = null;
        payload = default;
        if (!TrySplit(jws, out var parts)) return false;
        try
        {
            header = JsonSerializer.Deserialize(Base64Url.DecodeFromChars(parts[0]), ProtocolJson.Default.JwsHeader);
            payload = JsonSerializer.Deserialize(Base64Url.DecodeFromChars(parts[1]), typeInfo);
            return header is not null && payload is not null;
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="jws"/> is an ES256 JWS of <paramref name="expectedType"/> signed by <paramref name="key"/>.</summary>
    public static bool TryVerify<T>(string? jws, JsonTypeInfo<T> typeInfo, string expectedType, ECDsa key, out T? payload)
    {
        payload = default;
        if (!TrySplit(jws, out var parts)) return false;
        if (!TryReadUnverified(jws, typeInfo, out var header, out var candidate)) return false;
        if (header!.Alg != Algorithm || header.Typ != expectedType) return false;
        byte[] signature;
        try
        {
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            return false;
        }
        if (signature.Length != 64) return false;
        var signingInput = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        if (!key.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            return false;
        payload = candidate;
        return true;
    }

    private static bool TrySplit(string? jws, out string[] parts)
    {
        parts = jws?.Split('.') ?? [];
        return parts.Length == 3 && parts.All(p => p.Length > 0) && jws!.Length < 64 * 1024;
    }
}

/// <summary>The key format of the protocol: ECDSA P-256 as SubjectPublicKeyInfo (DER), base64.</summary>
public static class ProtocolKeys
{
    public static ECDsa Create() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static string ExportPublicKey(ECDsa key) => Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());

    /// <summary>Imports a public key and refuses anything that is not P-256 (a weaker curve would pass a signature check too).</summary>
    public static bool TryImportPublicKey(string? base64, out ECDsa? key)
    {
        key = null;
        if (string.IsNullOrWhiteSpace(base64) || base64.Length > 1024) return false;
        var candidate = ECDsa.Create();
        try
        {
            candidate.ImportSubjectPublicKeyInfo(Convert.FromBase64String(base64), out _);
            var curve = candidate.ExportParameters(false).Curve;
            if (candidate.KeySize != 256 || curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                candidate.Dispose();
                return false;
            }
            key = candidate;
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            candidate.Dispose();
            return false;
        }
    }

    /// <summary>A short, stable name for a public key: the first 16 bytes of its SPKI's SHA-256, base64url.</summary>
    public static string KeyId(ECDsa key) => Base64Url.EncodeToString(SHA256.HashData(key.ExportSubjectPublicKeyInfo()).AsSpan(0, 16));
}
