using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.DataProtection;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Cogrion.Portal.Tests.Authentication;

/// <summary>
/// The Data Protection key ring in PostgreSQL, encrypted with the operator's key-encryption key:
/// a second process with the same key reads what the first protected, the table alone reveals no
/// key, and a process with another key-encryption key reads nothing. Each "process" here is the
/// Portal's own registration (AddPortalDatabase + AddPortalDataProtection) in a fresh service provider.
/// </summary>
public sealed class KeyRingTests
{
    private static async Task<string> DatabaseAsync()
    {
        var server = await PostgresServer.GetAsync();
        return server.ConnectionString(await server.CreateMigratedDatabaseAsync("keyring"));
    }

    /// <summary>One Portal process's Data Protection, as the Portal registers it.</summary>
    private static ServiceProvider Replica(string connectionString, Dictionary<string, string?> keyRing, string environment = "Production")
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ContentRootPath = Path.GetTempPath() });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Database:ConnectionString"] = connectionString });
        builder.Configuration.AddInMemoryCollection(keyRing.ToDictionary(kv => "DataProtection:" + kv.Key, kv => kv.Value));
        builder.AddPortalDatabase();
        builder.AddPortalDataProtection();
        var services = builder.Services.BuildServiceProvider();
        // The schema exists already (a migrated database); tell the repository so, as the migration service would.
        services.GetRequiredService<MigrationStatus>().MarkApplied(0);
        return services;
    }

    private static Dictionary<string, string?> WithKey(string key) => new() { ["KeyEncryptionKey"] = key };

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static IDataProtector Protector(IServiceProvider services) =>
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector("key-ring-tests");

    [Fact]
    public async Task A_second_replica_with_the_same_key_encryption_key_reads_what_the_first_protected()
    {
        var database = await DatabaseAsync();
        var key = NewKey();
        await using var first = Replica(database, WithKey(key));
        await using var second = Replica(database, WithKey(key));

        var payload = Protector(first).Protect("a session ticket");

        Assert.Equal("a session ticket", Protector(second).Unprotect(payload));
    }

    [Fact]
    public async Task The_table_holds_only_encrypted_keys_and_another_key_encryption_key_reads_nothing()
    {
        var database = await DatabaseAsync();
        await using var first = Replica(database, WithKey(NewKey()));
        var payload = Protector(first).Protect("a session ticket");

        await using var connection = new NpgsqlConnection(database);
        var rows = (await connection.QueryAsync<string>("select xml from data_protection_keys")).ToList();
        Assert.NotEmpty(rows);
        Assert.All(rows, xml =>
        {
            Assert.Contains("encryptedKey", xml);
            Assert.DoesNotContain("<masterKey", xml);
            Assert.DoesNotContain("unencrypted", xml);
        });

        await using var impostor = Replica(database, WithKey(NewKey()));
        Assert.ThrowsAny<CryptographicException>(() => Protector(impostor).Unprotect(payload));
    }

    [Fact]
    public async Task A_rotated_key_encryption_key_still_reads_keys_the_previous_one_encrypted()
    {
        var database = await DatabaseAsync();
        var old = NewKey();
        await using var before = Replica(database, WithKey(old));
        var payload = Protector(before).Protect("kept across the rotation");

        await using var after = Replica(database, new() { ["KeyEncryptionKey"] = NewKey(), ["PreviousKeyEncryptionKeys:0"] = old });

        Assert.Equal("kept across the rotation", Protector(after).Unprotect(payload));
    }

    [Fact]
    public async Task A_certificate_can_be_the_key_encryption_key()
    {
        var database = await DatabaseAsync();
        var pfx = Path.Combine(Path.GetTempPath(), $"kek-{Guid.NewGuid():N}.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=cogrion-portal key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "pfx-pass"));
        }
        try
        {
            var settings = new Dictionary<string, string?> { ["KeyEncryptionCertificate"] = pfx, ["KeyEncryptionCertificatePassword"] = "pfx-pass" };
            await using var first = Replica(database, settings);
            await using var second = Replica(database, settings);

            var payload = Protector(first).Protect("protected under a certificate");

            Assert.Equal("protected under a certificate", Protector(second).Unprotect(payload));
            await using var connection = new NpgsqlConnection(database);
            Assert.All(await connection.QueryAsync<string>("select xml from data_protection_keys"), xml => Assert.Contains("EncryptedData", xml));
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    [Fact]
    public async Task Outside_development_a_missing_key_encryption_key_is_a_configuration_error_and_in_development_one_is_generated()
    {
        var database = await DatabaseAsync();
        await using var production = Replica(database, []);
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            production.GetRequiredService<Microsoft.Extensions.Options.IOptions<KeyRingOptions>>().Value);
        Assert.Contains("DataProtection:KeyEncryptionKey is required outside Development", error.Message);

        var path = Path.Combine(Path.GetTempPath(), $"dev-kek-{Guid.NewGuid():N}");
        try
        {
            var generated = DevelopmentKeyEncryptionKey.LoadOrCreate(path);
            Assert.Equal(generated, DevelopmentKeyEncryptionKey.LoadOrCreate(path)); // kept, so a restarted Portal reads its ring
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
