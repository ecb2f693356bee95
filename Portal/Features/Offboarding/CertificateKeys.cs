using System.Security.Cryptography;
using Cogrion.Portal.Infrastructure.DataProtection;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>The key deletion certificates are signed with (ECDSA P-256), and its public half as PEM for the well-known address.</summary>
public sealed record CertificateKey(string KeyId, ECDsa Key, string PublicKeyPem);

/// <summary>
/// The deletion-certificate key: one of the Portal's stored signing keys, so every replica signs with the same key and the public
/// key published at <see cref="OffboardingEndpoints.PublicKeyPath"/> verifies all of them. Apart from the agents' command-signing
/// key: a certificate key is published to everyone, and a compromise of one must not touch the other (ADR 0101).
/// </summary>
public sealed class CertificateKeys(StoredSigningKeys keys)
{
    private static readonly SigningKeySlot Slot = new("offboarding_signing_keys", "Cogrion.Offboarding.CertificateKey.v1",
        "deletion-certificate key", "Restore the key-encryption key.", KeyIdOf);

    public async ValueTask<CertificateKey> GetAsync(CancellationToken cancellationToken)
    {
        var key = await keys.GetAsync(Slot, cancellationToken);
        return new CertificateKey(KeyIdOf(key), key, key.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>The key's id: the SHA-256 of its SubjectPublicKeyInfo, hex (what <c>openssl pkey -pubin -outform DER | sha256sum</c>
    /// prints).</summary>
    public static string KeyIdOf(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
}
