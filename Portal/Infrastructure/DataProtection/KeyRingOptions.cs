using System.Security.Cryptography;
using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.DataProtection;

/// <summary>
/// How the shared Data Protection key ring (kept in PostgreSQL) is encrypted at rest: with a
/// symmetric key-encryption key (<see cref="KeyEncryptionKey"/>, from a secret store) or with a
/// certificate (<see cref="KeyEncryptionCertificate"/>). Outside Development one of them is required.
/// See docs/adr/0059-data-protection-keys-in-postgresql.md.
/// </summary>
public sealed class KeyRingOptions
{
    public const string Section = "DataProtection";

    /// <summary>A random 256-bit key, base64. A secret: set DataProtection__KeyEncryptionKey from a secret store.</summary>
    public string KeyEncryptionKey { get; set; } = "";

    /// <summary>Earlier key-encryption keys, still accepted for reading keys they encrypted (rotation).</summary>
    public List<string> PreviousKeyEncryptionKeys { get; set; } = [];

    /// <summary>Path to a certificate whose RSA key encrypts the key ring: a PFX file, or a PEM file (with <see cref="KeyEncryptionCertificateKey"/>
    /// when the key is in a file of its own).</summary>
    public string KeyEncryptionCertificate { get; set; } = "";

    /// <summary>Path to the PEM private key of a PEM certificate, when it is not in the certificate file.</summary>
    public string KeyEncryptionCertificateKey { get; set; } = "";

    /// <summary>The PFX file's password, if it has one. A secret.</summary>
    public string KeyEncryptionCertificatePassword { get; set; } = "";

    /// <summary>Earlier certificates (PFX without a password, or PEM with the key inside), still accepted for reading.</summary>
    public List<string> PreviousKeyEncryptionCertificates { get; set; } = [];

    public bool HasKeyEncryptionKey => !string.IsNullOrWhiteSpace(KeyEncryptionKey);
    public bool HasCertificate => !string.IsNullOrWhiteSpace(KeyEncryptionCertificate);

    /// <summary>Decodes a configured key; null when it is not base64 of exactly 32 bytes.</summary>
    public static byte[]? DecodeKey(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value.Trim(), buffer, out var written) && written == 32 ? buffer[..written] : null;
    }
}

public sealed class KeyRingOptionsValidator(IHostEnvironment environment) : IValidateOptions<KeyRingOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyRingOptions options)
    {
        var errors = new ValidationErrors(KeyRingOptions.Section);
        if (options.HasKeyEncryptionKey && options.HasCertificate)
            errors.Add(nameof(options.KeyEncryptionKey), "and KeyEncryptionCertificate are both set; configure one key-encryption key.");
        if (!options.HasKeyEncryptionKey && !options.HasCertificate && !environment.IsDevelopment())
            errors.Add(nameof(options.KeyEncryptionKey),
                "is required outside Development (or KeyEncryptionCertificate): the Data Protection keys that protect sessions and the " +
                    "command-signing key are kept in the database, encrypted with it. Generate one with 'openssl rand -base64 32' and set " +
                    "DataProtection__KeyEncryptionKey from a secret store.");
        if (options.HasKeyEncryptionKey && KeyRingOptions.DecodeKey(options.KeyEncryptionKey) is null)
            errors.Add(nameof(options.KeyEncryptionKey), "must be base64 of exactly 32 random bytes ('openssl rand -base64 32').");
        for (var i = 0; i < options.PreviousKeyEncryptionKeys.Count; i++)
        {
            if (KeyRingOptions.DecodeKey(options.PreviousKeyEncryptionKeys[i]) is null)
                errors.Add($"{nameof(options.PreviousKeyEncryptionKeys)}:{i}", "must be base64 of exactly 32 bytes.");
        }
        if (options.HasCertificate)
        {
            try
            {
                using var certificate = KeyEncryptionCertificates.LoadCurrent(options);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException
                or InvalidOperationException)
            {
                errors.Add(nameof(options.KeyEncryptionCertificate), $"cannot be used: {ex.Message}");
            }
        }
        for (var i = 0; i < options.PreviousKeyEncryptionCertificates.Count; i++)
        {
            try
            {
                using var certificate = KeyEncryptionCertificates.Load(options.PreviousKeyEncryptionCertificates[i], null, null);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException
                or InvalidOperationException)
            {
                errors.Add($"{nameof(options.PreviousKeyEncryptionCertificates)}:{i}", $"cannot be used: {ex.Message}");
            }
        }
        return errors.ToResult();
    }
}
