using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Cogrion.Agent.Protocol;

/// <summary>
/// HPKE base mode (RFC 9180) for exactly one suite: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM,
/// single-shot (one message per encapsulation, sequence number 0). The browser module
/// (Portal/wwwroot/js/secrets.js) implements the same with WebCrypto; the agent opens with this class, and
/// its `seal` command seals with it. Written out because the BCL has every primitive (ECDH, HKDF, AES-GCM)
/// but no HPKE, and no HPKE package is on our feed; the RFC's own test vectors check it (HpkeTests).
/// </summary>
public static class Hpke
{
    public const ushort KemId = 0x0010;
    public const ushort KdfId = 0x0001;
    public const ushort AeadId = 0x0001;
    /// <summary>An uncompressed P-256 point: 0x04 || X || Y.</summary>
    public const int EncodedPublicKeyLength = 65;
    private const int KeyLength = 16;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private const int SecretLength = 32;

    private static readonly byte[] Version = "HPKE-v1"u8.ToArray();
    private static readonly byte[] KemSuiteId = [.. "KEM"u8, 0x00, 0x10];
    private static readonly byte[] HpkeSuiteId = [.. "HPKE"u8, 0x00, 0x10, 0x00, 0x01, 0x00, 0x01];

    public static ECDiffieHellman CreateKeyPair() => ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>SerializePublicKey of RFC 9180 §7.1.1: the uncompressed point.</summary>
    public static byte[] SerializePublicKey(ECDiffieHellman key)
    {
        var q = key.ExportParameters(false).Q;
        return [0x04, .. q.X!, .. q.Y!];
    }

    /// <summary>DeserializePublicKey: refuses anything that is not an uncompressed point on P-256.</summary>
    public static ECDiffieHellman DeserializePublicKey(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length != EncodedPublicKeyLength || encoded[0] != 0x04)
            throw new CryptographicException("A P-256 public key must be an uncompressed point of 65 bytes.");
        var key = ECDiffieHellman.Create();
        try
        {
            // ImportParameters validates that the point lies on the curve (OpenSSL checks the key).
            key.ImportParameters(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = encoded[1..33].ToArray(), Y = encoded[33..].ToArray() },
            });
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Seals <paramref name="plaintext"/> to <paramref name="recipientPublicKey"/> with a fresh ephemeral key.</summary>
    public static (byte[] Enc, byte[] Ciphertext) Seal(ReadOnlySpan<byte> recipientPublicKey, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad,
        ReadOnlySpan<byte> plaintext)
    {
        using var ephemeral = CreateKeyPair();
        return Seal(ephemeral, recipientPublicKey, info, aad, plaintext);
    }

    /// <summary>Seals with a given ephemeral key: only the RFC's test vectors fix it; reusing one breaks every message sealed under it.</summary>
    public static (byte[] Enc, byte[] Ciphertext) Seal(
        ECDiffieHellman ephemeral, ReadOnlySpan<byte> recipientPublicKey, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad,
            ReadOnlySpan<byte> plaintext)
    {
        using var recipient = DeserializePublicKey(recipientPublicKey);
        var dh = ephemeral.DeriveRawSecretAgreement(recipient.PublicKey);
        var enc = SerializePublicKey(ephemeral);
        var sharedSecret = ExtractAndExpand(dh, [.. enc, .. recipientPublicKey]);
        var (key, nonce) = KeySchedule(sharedSecret, info);
        var ciphertext = new byte[plaintext.Length + TagLength];
        using var aead = new AesGcm(key, TagLength);
        aead.Encrypt(nonce, plaintext, ciphertext.AsSpan(0, plaintext.Length), ciphertext.AsSpan(plaintext.Length), aad);
        return (enc, ciphertext);
    }

    /// <summary>Opens a single-shot message; a wrong key, a changed enc, aad or ciphertext throws <see
    /// cref="AuthenticationTagMismatchException"/>.</summary>
    public static byte[] Open(ECDiffieHellman recipient, ReadOnlySpan<byte> enc, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad,
        ReadOnlySpan<byte> ciphertext)
    {
        if (ciphertext.Length < TagLength) throw new CryptographicException("The ciphertext is shorter than its authentication tag.");
        using var ephemeral = DeserializePublicKey(enc);
        var dh = recipient.DeriveRawSecretAgreement(ephemeral.PublicKey);
        var sharedSecret = ExtractAndExpand(dh, [.. enc, .. SerializePublicKey(recipient)]);
        var (key, nonce) = KeySchedule(sharedSecret, info);
        var plaintext = new byte[ciphertext.Length - TagLength];
        using var aead = new AesGcm(key, TagLength);
        aead.Decrypt(nonce, ciphertext[..^TagLength], ciphertext[^TagLength..], plaintext, aad);
        return plaintext;
    }

    /// <summary>The KEM's shared secret (RFC 9180 §4.1), exposed for the known-answer test.</summary>
    public static byte[] ExtractAndExpand(ReadOnlySpan<byte> dh, ReadOnlySpan<byte> kemContext)
    {
        var prk = LabeledExtract(KemSuiteId, [], "eae_prk", dh);
        return LabeledExpand(KemSuiteId, prk, "shared_secret", kemContext, SecretLength);
    }

    /// <summary>KeySchedule of RFC 9180 §5.1 for mode_base (no PSK): the AEAD key and base nonce.</summary>
    public static (byte[] Key, byte[] Nonce) KeySchedule(ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> info)
    {
        var pskIdHash = LabeledExtract(HpkeSuiteId, [], "psk_id_hash", []);
        var infoHash = LabeledExtract(HpkeSuiteId, [], "info_hash", info);
        byte[] context = [0x00, .. pskIdHash, .. infoHash];
        var secret = LabeledExtract(HpkeSuiteId, sharedSecret, "secret", []);
        return (LabeledExpand(HpkeSuiteId, secret, "key", context, KeyLength), LabeledExpand(HpkeSuiteId, secret, "base_nonce", context,
            NonceLength));
    }

    private static byte[] LabeledExtract(ReadOnlySpan<byte> suiteId, ReadOnlySpan<byte> salt, string label, ReadOnlySpan<byte> ikm)
    {
        byte[] labeled = [.. Version, .. suiteId, .. Encoding.ASCII.GetBytes(label), .. ikm];
        var prk = new byte[SecretLength];
        HKDF.Extract(HashAlgorithmName.SHA256, labeled, salt, prk);
        return prk;
    }

    private static byte[] LabeledExpand(ReadOnlySpan<byte> suiteId, ReadOnlySpan<byte> prk, string label, ReadOnlySpan<byte> info, int length)
    {
        var size = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(size, (ushort)length);
        byte[] labeled = [.. size, .. Version, .. suiteId, .. Encoding.ASCII.GetBytes(label), .. info];
        var output = new byte[length];
        HKDF.Expand(HashAlgorithmName.SHA256, prk, output, labeled);
        return output;
    }
}
