using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.DataProtection;

public static class DataProtectionServiceCollectionExtensions
{
    /// <summary>
    /// The name every replica protects under. Without it the framework derives one from the content
    /// root path, and two replicas installed in different folders could not read each other's cookies.
    /// </summary>
    public const string ApplicationName = "cogrion-portal";

    /// <summary>
    /// One Data Protection key ring for all replicas, in PostgreSQL, encrypted at rest with the
    /// operator's key-encryption key (docs/adr/0059-data-protection-keys-in-postgresql.md).
    /// </summary>
    public static WebApplicationBuilder AddPortalDataProtection(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<KeyRingOptions, KeyRingOptionsValidator>(builder.Configuration, KeyRingOptions.Section);
        services.TryAddSingleton<PostgresXmlRepository>();
        services.TryAddSingleton<StoredSigningKeys>();
        services.TryAddSingleton(sp => CreateKeyEncryptionKeys(sp));

        var dataProtection = services.AddDataProtection().SetApplicationName(ApplicationName);
        // Certificates are read here, while services are registered, because the framework takes the
        // decryption certificates as objects. A file that cannot be read is skipped: the options
        // validator reports it and start-up stops before any key is used.
        var configured = builder.Configuration.GetSection(KeyRingOptions.Section).Get<KeyRingOptions>() ?? new KeyRingOptions();
        var certificates = LoadCertificates(configured);
        if (certificates.Count > 0) dataProtection.UnprotectKeysWithAnyCertificate([.. certificates]);

        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, sp) =>
        {
            options.XmlRepository = sp.GetRequiredService<PostgresXmlRepository>();
            var current = configured.HasCertificate ? certificates.FirstOrDefault() : null;
            options.XmlEncryptor = current is not null
                ? new CertificateXmlEncryptor(current, sp.GetRequiredService<ILoggerFactory>())
                // The keys are read when the first key is encrypted: after start-up validation has run.
                : new AesGcmXmlEncryptor(sp.GetRequiredService<KeyEncryptionKeys>);
        });
        return builder;
    }

    private static List<X509Certificate2> LoadCertificates(KeyRingOptions options)
    {
        var loaded = new List<X509Certificate2>();
        void TryLoad(Func<X509Certificate2> load)
        {
            try { loaded.Add(load()); }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException
                or InvalidOperationException)
            { }
        }
        if (options.HasCertificate) TryLoad(() => KeyEncryptionCertificates.LoadCurrent(options));
        foreach (var path in options.PreviousKeyEncryptionCertificates) TryLoad(() => KeyEncryptionCertificates.Load(path, null, null));
        return loaded;
    }

    private static KeyEncryptionKeys CreateKeyEncryptionKeys(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<KeyRingOptions>>().Value;
        var previous = options.PreviousKeyEncryptionKeys.Select(KeyRingOptions.DecodeKey).OfType<byte[]>().ToList();
        if (options.HasKeyEncryptionKey)
            return new KeyEncryptionKeys(KeyRingOptions.DecodeKey(options.KeyEncryptionKey)
                ?? throw new InvalidOperationException("DataProtection:KeyEncryptionKey is not base64 of 32 bytes."), previous);
        if (options.HasCertificate)
            return new KeyEncryptionKeys(null, previous); // the certificate encrypts; these only read older keys

        // Only reachable in Development: the options validator stops any other environment first.
        var path = DevelopmentKeyEncryptionKey.DefaultPath;
        var key = DevelopmentKeyEncryptionKey.LoadOrCreate(path);
        services.GetRequiredService<ILoggerFactory>().CreateLogger("Cogrion.Portal.DataProtection").LogWarning(
            "No key-encryption key is configured: the Data Protection keys in the database are encrypted with a generated development key kept in " +
                "{Path}. " +
            "Configure DataProtection:KeyEncryptionKey (or KeyEncryptionCertificate) for anything but local development.", path);
        return new KeyEncryptionKeys(key, previous);
    }
}

/// <summary>A key-encryption key generated once per developer machine, so a local Portal reads its own key ring after a restart.</summary>
public static class DevelopmentKeyEncryptionKey
{
    public static string DefaultPath => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "cogrion-portal",
            "development-key-encryption-key");

    public static byte[] LoadOrCreate(string path)
    {
        if (File.Exists(path) && KeyRingOptions.DecodeKey(File.ReadAllText(path)) is { } existing) return existing;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = RandomNumberGenerator.GetBytes(32);
        File.WriteAllText(path, Convert.ToBase64String(key));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return key;
    }
}
