using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cogrion.Portal.Infrastructure.DataProtection;

/// <summary>Loads the key-encryption certificates named in <see cref="KeyRingOptions"/>: PFX or PEM, always with their private key.</summary>
public static class KeyEncryptionCertificates
{
    public static X509Certificate2 LoadCurrent(KeyRingOptions options) =>
        Load(options.KeyEncryptionCertificate, NullIfEmpty(options.KeyEncryptionCertificateKey),
            NullIfEmpty(options.KeyEncryptionCertificatePassword));

    public static X509Certificate2 Load(string path, string? keyPath, string? password)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
        var certificate = IsPem(path)
            ? X509Certificate2.CreateFromPemFile(path, keyPath)
            : X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
        if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"'{path}' holds no RSA private key; the key ring cannot be read without it.");
        }
        return certificate;
    }

    // PEM is text with armour lines; anything else is taken as PKCS#12 (PFX).
    private static bool IsPem(string path) =>
        new FileInfo(path).Length < 1024 * 1024 && File.ReadAllText(path).Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal);

    private static string? NullIfEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
