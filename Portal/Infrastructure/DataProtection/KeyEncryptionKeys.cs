using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Cogrion.Portal.Infrastructure.DataProtection;

/// <summary>
/// The symmetric key-encryption keys: the current one encrypts new Data Protection keys, every one
/// (current and previous) can decrypt. Each is named by a short fingerprint written next to the
/// ciphertext, so a rotated ring finds the right key without trying them all.
/// </summary>
public sealed class KeyEncryptionKeys
{
    private readonly Dictionary<string, byte[]> byId;

    /// <param name="current">The key that encrypts new keys; null when a certificate does that and these only read older keys.</param>
    public KeyEncryptionKeys(byte[]? current, IEnumerable<byte[]> previous)
    {
        Current = current;
        CurrentId = current is null ? null : IdOf(current);
        byId = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (current is not null) byId[CurrentId!] = current;
        foreach (var key in previous) byId.TryAdd(IdOf(key), key);
    }

    public string? CurrentId { get; }
    public byte[]? Current { get; }

    public byte[]? Find(string id) => byId.GetValueOrDefault(id);

    /// <summary>Not secret: the first 8 bytes of the key's SHA-256, only enough to tell keys apart.</summary>
    public static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));
}

/// <summary>
/// Encrypts a Data Protection key's XML with AES-256-GCM under the operator's key-encryption key
/// before the key reaches the database. The framework only ships certificate, DPAPI and Windows
/// encryptors; a 32-byte key from a secret store is the simplest thing an operator can provide.
/// </summary>
public sealed class AesGcmXmlEncryptor(Func<KeyEncryptionKeys> getKeys) : IXmlEncryptor
{
    internal static readonly XNamespace Namespace = "urn:cogrion:data-protection:v1";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var keys = getKeys();
        var key = keys.Current ?? throw new InvalidOperationException("No key-encryption key is configured to encrypt new Data Protection keys.");
        var keyId = keys.CurrentId!;
        var plaintext = System.Text.Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var sealedBytes = new byte[NonceSize + TagSize + plaintext.Length];
        nonce.CopyTo(sealedBytes, 0);
        using (var aes = new AesGcm(key, TagSize))
        {
            aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), AssociatedData(keyId));
        }
        CryptographicOperations.ZeroMemory(plaintext);
        var element = new XElement(Namespace + "encryptedKey",
            new XAttribute("keyEncryptionKey", keyId),
            new XAttribute("algorithm", "AES-256-GCM"),
            new XComment(" Encrypted with the key-encryption key configured in DataProtection:KeyEncryptionKey. "),
            new XElement(Namespace + "value", Convert.ToBase64String(sealedBytes)));
        return new EncryptedXmlInfo(element, typeof(AesGcmXmlDecryptor));
    }

    /// <summary>Binds the ciphertext to the key it names, so a swapped attribute fails rather than misleads.</summary>
    internal static byte[] AssociatedData(string keyId) => System.Text.Encoding.ASCII.GetBytes("cogrion-dp-kek:" + keyId);

    internal static XElement Decrypt(XElement encryptedElement, KeyEncryptionKeys keys)
    {
        var keyId = (string?)encryptedElement.Attribute("keyEncryptionKey")
            ?? throw new CryptographicException("The encrypted Data Protection key does not name its key-encryption key.");
        var key = keys.Find(keyId)
            ?? throw new CryptographicException(
                $"A Data Protection key was encrypted with key-encryption key {keyId}, which is not configured (DataProtection:KeyEncryptionKey or " +
                    $"PreviousKeyEncryptionKeys).");
        var sealedBytes = Convert.FromBase64String((string?)encryptedElement.Element(Namespace + "value")
            ?? throw new CryptographicException("The encrypted Data Protection key has no value."));
        if (sealedBytes.Length < NonceSize + TagSize) throw new CryptographicException("The encrypted Data Protection key is truncated.");
        var plaintext = new byte[sealedBytes.Length - NonceSize - TagSize];
        using (var aes = new AesGcm(key, TagSize))
        {
            aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), plaintext,
                AssociatedData(keyId));
        }
        try
        {
            return XElement.Parse(System.Text.Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}

/// <summary>
/// The framework creates decryptors by type name, handing them the service provider, so the keys
/// come from there rather than from a constructor argument.
/// </summary>
public sealed class AesGcmXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) =>
        AesGcmXmlEncryptor.Decrypt(encryptedElement, services.GetRequiredService<KeyEncryptionKeys>());
}
