using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Cogrion.Agent.Protocol;

/// <summary>
/// Checks a WebAuthn assertion (W3C WebAuthn Level 2, §7.2) against pinned approver keys, with the BCL only, so
/// the Native AOT agent needs no WebAuthn library: the credential is a pinned one, clientDataJSON says
/// "webauthn.get" with the expected challenge and origin, the authenticator data is for the pinned relying
/// party with user presence and user verification, and the ES256 signature over authenticatorData ‖
/// SHA-256(clientDataJSON) verifies with the approver's COSE key. Sign counters are not checked: passkeys
/// synced between devices report 0, and a cloned key is not the threat this guards against.
/// </summary>
public static class WebAuthnVerifier
{
    private const byte UserPresent = 0x01;
    private const byte UserVerified = 0x04;

    public static bool TryVerify(WebAuthnAssertion? assertion, SupportApproverSet pinned, byte[] expectedChallenge, out SupportApprover? approver,
        out string refusal)
    {
        approver = null;
        if (assertion is null)
        {
            refusal = "there is no approval signature";
            return false;
        }
        approver = pinned.Approvers.FirstOrDefault(a => a.CredentialId == assertion.CredentialId);
        if (approver is null)
        {
            refusal = $"credential {Short(assertion.CredentialId)} is not a pinned approver of this tenant";
            return false;
        }
        if (!TryDecode(assertion.AuthenticatorData, out var authenticatorData) || !TryDecode(assertion.ClientDataJson, out var clientData)
            || !TryDecode(assertion.Signature, out var signature))
        {
            refusal = "the assertion is not base64url";
            return false;
        }
        if (!ClientDataMatches(clientData, expectedChallenge, pinned.Origin, out refusal)) return false;
        if (authenticatorData.Length < 37 || !authenticatorData.AsSpan(0, 32)
            .SequenceEqual(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(pinned.RpId))))
        {
            refusal = $"the authenticator data is not for relying party {pinned.RpId}";
            return false;
        }
        var flags = authenticatorData[32];
        if ((flags & UserPresent) == 0 || (flags & UserVerified) == 0)
        {
            refusal = "the authenticator did not verify the user (user presence and verification are required)";
            return false;
        }
        using var key = CoseKey.TryImportEs256(approver.PublicKey);
        if (key is null)
        {
            refusal = $"the pinned key of {Short(approver.CredentialId)} is not an ES256 (P-256) COSE key";
            return false;
        }
        var signed = new byte[authenticatorData.Length + 32];
        authenticatorData.CopyTo(signed, 0);
        SHA256.HashData(clientData, signed.AsSpan(authenticatorData.Length));
        bool valid;
        try
        {
            valid = key.VerifyData(signed, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            valid = false;
        }
        if (!valid)
        {
            refusal = $"the signature does not verify with the pinned key of {Short(approver.CredentialId)}";
            return false;
        }
        refusal = "";
        return true;
    }

    private static bool ClientDataMatches(byte[] clientData, byte[] expectedChallenge, string origin, out string refusal)
    {
        try
        {
            using var document = JsonDocument.Parse(clientData);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || type.GetString() != "webauthn.get")
            {
                refusal = "the client data is not of a webauthn.get ceremony";
                return false;
            }
            if (!root.TryGetProperty("challenge", out var challenge) || challenge.ValueKind != JsonValueKind.String
                || challenge.GetString() != Base64Url.EncodeToString(expectedChallenge))
            {
                refusal = "the signed challenge is not this grant's (another request, workspace, agent, requester, scope or window)";
                return false;
            }
            if (!root.TryGetProperty("origin", out var signedOrigin) || signedOrigin.GetString() != origin)
            {
                refusal = $"the ceremony's origin is not the pinned origin {origin}";
                return false;
            }
            if (root.TryGetProperty("crossOrigin", out var cross) && cross.ValueKind == JsonValueKind.True)
            {
                refusal = "the ceremony ran in a cross-origin frame";
                return false;
            }
        }
        catch (JsonException)
        {
            refusal = "the client data is not JSON";
            return false;
        }
        refusal = "";
        return true;
    }

    private static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (string.IsNullOrEmpty(text) || text.Length > 16 * 1024) return false;
        try
        {
            bytes = Base64Url.DecodeFromChars(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string Short(string credentialId) => credentialId.Length > 12 ? credentialId[..12] + "…" : credentialId;
}

/// <summary>
/// The one COSE key shape approvers use: EC2 (kty 2), ES256 (alg −7), P-256 (crv 1), with 32-byte x and y
/// (RFC 9053 §7.1.1). A tiny CBOR reader for that map only: anything else is refused, not guessed at.
/// </summary>
public static class CoseKey
{
    public static ECDsa? TryImportEs256(string base64Url)
    {
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(base64Url);
        }
        catch (FormatException)
        {
            return null;
        }
        var reader = new CborReader(bytes);
        if (!reader.TryReadMapHeader(out var count) || count > 16) return null;
        long? kty = null, alg = null, crv = null;
        byte[]? x = null, y = null;
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryReadInteger(out var label)) return null;
            switch (label)
            {
                case 1 when reader.TryReadInteger(out var v): kty = v; break;
                case 3 when reader.TryReadInteger(out var v): alg = v; break;
                case -1 when reader.TryReadInteger(out var v): crv = v; break;
                case -2 when reader.TryReadBytes(out var v): x = v; break;
                case -3 when reader.TryReadBytes(out var v): y = v; break;
                default:
                    if (!reader.TrySkip()) return null;
                    break;
            }
        }
        if (!reader.AtEnd || kty != 2 || alg != -7 || crv != 1 || x is not { Length: 32 } || y is not { Length: 32 }) return null;
        try
        {
            return ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
        }
        catch (CryptographicException)
        {
            return null; // not a point on the curve
        }
    }

    /// <summary>The COSE form of a P-256 public key, as an authenticator writes it (tests and the sandbox use it).</summary>
    public static byte[] Encode(ECDsa key)
    {
        var q = key.ExportParameters(false).Q;
        var cose = new List<byte> { 0xA5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20 };
        cose.AddRange(q.X!);
        cose.AddRange([0x22, 0x58, 0x20]);
        cose.AddRange(q.Y!);
        return [.. cose];
    }

    private sealed class CborReader(byte[] data)
    {
        private int position;

        public bool AtEnd => position == data.Length;

        private bool TryReadHead(out int major, out ulong value)
        {
            major = 0;
            value = 0;
            if (position >= data.Length) return false;
            var initial = data[position++];
            major = initial >> 5;
            var info = initial & 0x1F;
            var length = info switch { < 24 => 0, 24 => 1, 25 => 2, 26 => 4, 27 => 8, _ => -1 };
            if (length < 0 || position + length > data.Length) return false;
            if (length == 0) value = (ulong)info;
            for (var i = 0; i < length; i++) value = (value << 8) | data[position++];
            return true;
        }

        public bool TryReadMapHeader(out int count)
        {
            count = 0;
            if (!TryReadHead(out var major, out var value) || major != 5 || value > int.MaxValue) return false;
            count = (int)value;
            return true;
        }

        public bool TryReadInteger(out long number)
        {
            number = 0;
            if (!TryReadHead(out var major, out var value) || value > long.MaxValue) return false;
            switch (major)
            {
                case 0: number = (long)value; return true;
                case 1: number = -1 - (long)value; return true;
                default: return false;
            }
        }

        public bool TryReadBytes(out byte[] bytes)
        {
            bytes = [];
            if (!TryReadHead(out var major, out var length) || major != 2 || length > (ulong)(data.Length - position)) return false;
            bytes = data.AsSpan(position, (int)length).ToArray();
            position += (int)length;
            return true;
        }

        /// <summary>Skips one value of a kind a COSE key may carry besides ours (integers, byte and text strings).</summary>
        public bool TrySkip()
        {
            if (!TryReadHead(out var major, out var value)) return false;
            if (major is 0 or 1) return true;
            if (major is 2 or 3 && value <= (ulong)(data.Length - position))
            {
                position += (int)value;
                return true;
            }
            return false;
        }
    }
}
