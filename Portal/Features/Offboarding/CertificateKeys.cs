using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>The key deletion certificates are signed with (ECDSA P-256), and its public half as PEM for the well-known address.</summary>
public sealed record CertificateKey(string KeyId, ECDsa Key, string PublicKeyPem);

/// <summary>
/// Generated once and kept in the database with its private half protected by Data Protection, whose key ring every replica shares in
/// PostgreSQL (ADR 0059): every replica signs with the same key, and the public key published at
/// <see cref="OffboardingEndpoints.PublicKeyPath"/> verifies all of them. Stored like the agents' command-signing key (ADR 0032), apart
/// from it: a certificate key is published to everyone, and a compromise of one must not touch the other (ADR 0101).
/// </summary>
public sealed class CertificateKeys(NpgsqlDataSource dataSource, IDataProtectionProvider dataProtection, TimeProvider time)
{
    private const string Purpose = "Cogrion.Offboarding.CertificateKey.v1";
    private readonly SemaphoreSlim gate = new(1, 1);
    private CertificateKey? current;

    public async ValueTask<CertificateKey> GetAsync(CancellationToken cancellationToken)
    {
        if (current is not null) return current;
        await gate.WaitAsync(cancellationToken);
        try
        {
            return current ??= await LoadAsync(cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<CertificateKey> LoadAsync(CancellationToken cancellationToken)
    {
        var protector = dataProtection.CreateProtector(Purpose);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        const string read = "select protected_private_key from offboarding_signing_keys order by created_at limit 1";
        var stored = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(read, cancellationToken: cancellationToken));
        if (stored is null)
        {
            using var generated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            // Two replicas starting together may both generate; the first insert wins and both read it back.
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into offboarding_signing_keys (key_id, public_key, protected_private_key, created_at)
                select @KeyId, @PublicKey, @Protected, @Now
                where not exists (select 1 from offboarding_signing_keys)
                """,
                new
                {
                    KeyId = KeyIdOf(generated),
                    PublicKey = generated.ExportSubjectPublicKeyInfo(),
                    Protected = protector.Protect(Convert.ToBase64String(generated.ExportPkcs8PrivateKey())),
                    Now = time.GetUtcNow(),
                }, cancellationToken: cancellationToken));
            stored = await connection.QueryFirstAsync<string>(new CommandDefinition(read, cancellationToken: cancellationToken));
        }
        string privateKey;
        try
        {
            privateKey = protector.Unprotect(stored);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException(
                "The deletion-certificate key in the database was protected by a Data Protection key ring this Portal cannot read " +
                "(another DataProtection:KeyEncryptionKey?). Restore the key-encryption key.", ex);
        }
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(privateKey), out _);
        return new CertificateKey(KeyIdOf(key), key, key.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>The key's id: the SHA-256 of its SubjectPublicKeyInfo, hex (what <c>openssl pkey -pubin -outform DER | sha256sum</c>
    /// prints).</summary>
    public static string KeyIdOf(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
}
