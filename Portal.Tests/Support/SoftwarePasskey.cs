using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Tests.Support;

/// <summary>
/// A passkey in software, making exactly what an authenticator makes (WebAuthn Level 2): a "none" attestation for
/// registration (checked by the Portal with Fido2, as a browser's would be) and assertions with user presence and
/// verification over a challenge. For tests and the bench where no browser runs; the browser tests use Chromium's
/// virtual authenticator instead.
/// </summary>
public sealed class SoftwarePasskey(string rpId, string origin) : IDisposable
{
    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public byte[] Id { get; } = RandomNumberGenerator.GetBytes(16);
    public string CredentialId => Base64Url.EncodeToString(Id);
    public string PublicKey => Base64Url.EncodeToString(CoseKey.Encode(key));

    /// <summary>The JSON a browser returns from navigator.credentials.create() for <paramref name="optionsJson"/>.</summary>
    public string Attest(string optionsJson)
    {
        var challenge = JsonNode.Parse(optionsJson)!["challenge"]!.GetValue<string>();
        var clientData = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "webauthn.create", challenge, origin, crossOrigin = false }));
        var cose = CoseKey.Encode(key);
        var authData = new List<byte>(SHA256.HashData(Encoding.UTF8.GetBytes(rpId))) { 0x45, 0, 0, 0, 0 }; // UP | UV | AT, counter 0
        authData.AddRange(new byte[16]); // AAGUID: none
        authData.AddRange([(byte)(Id.Length >> 8), (byte)Id.Length]);
        authData.AddRange(Id);
        authData.AddRange(cose);
        var attestation = new List<byte> { 0xA3 };
        attestation.AddRange(Text("fmt"));
        attestation.AddRange(Text("none"));
        attestation.AddRange(Text("attStmt"));
        attestation.Add(0xA0);
        attestation.AddRange(Text("authData"));
        attestation.AddRange([0x59, (byte)(authData.Count >> 8), (byte)authData.Count]);
        attestation.AddRange(authData);
        return JsonSerializer.Serialize(new
        {
            id = CredentialId,
            rawId = CredentialId,
            type = "public-key",
            response = new { attestationObject = Base64Url.EncodeToString([.. attestation]), clientDataJSON = Base64Url.EncodeToString(clientData) },
            clientExtensionResults = new { },
        });
    }

    /// <summary>An assertion over <paramref name="challenge"/>, as navigator.credentials.get() returns it.</summary>
    public WebAuthnAssertion Sign(byte[] challenge, string? asCredentialId = null, string? atOrigin = null)
    {
        var clientData = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            type = "webauthn.get",
            challenge = Base64Url.EncodeToString(challenge),
            origin = atOrigin ?? origin,
            crossOrigin = false,
        }));
        byte[] authData = [.. SHA256.HashData(Encoding.UTF8.GetBytes(rpId)), 0x05, 0, 0, 0, 1];
        var signature = key.SignData([.. authData, .. SHA256.HashData(clientData)], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new WebAuthnAssertion(asCredentialId ?? CredentialId, Base64Url.EncodeToString(authData), Base64Url.EncodeToString(clientData),
            Base64Url.EncodeToString(signature));
    }

    private static byte[] Text(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return [(byte)(0x60 | bytes.Length), .. bytes];
    }

    public void Dispose() => key.Dispose();
}
