using System.Collections.Concurrent;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.DataProtection;

/// <summary>
/// Where one of the Portal's own P-256 signing keys lives: its table (columns <c>key_id, public_key, protected_private_key,
/// created_at</c>), the Data Protection purpose its private half is protected under, and what to tell an operator when this
/// Portal cannot unprotect it. Each purpose has a table and a protector of its own, so a compromise of one key does not touch
/// another (ADR 0101). <paramref name="KeyIdOf"/> is how its users name the key (stored in <c>key_id</c>).
/// </summary>
public sealed record SigningKeySlot(string Table, string Purpose, string Name, string Remedy, Func<ECDsa, string> KeyIdOf);

/// <summary>
/// The Portal's signing keys, each generated at first use and kept in the database with its private half protected by Data
/// Protection, whose key ring every replica shares in PostgreSQL (ADR 0059): every replica signs with the same key
/// (ADR 0032). Loaded once per slot and kept; a failed load is retried on the next call.
/// </summary>
public sealed class StoredSigningKeys(NpgsqlDataSource dataSource, IDataProtectionProvider dataProtection, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, ECDsa> loaded = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim gate = new(1, 1);

    public async ValueTask<ECDsa> GetAsync(SigningKeySlot slot, CancellationToken cancellationToken)
    {
        if (loaded.TryGetValue(slot.Table, out var key)) return key;
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (loaded.TryGetValue(slot.Table, out key)) return key;
            key = await LoadOrCreateAsync(slot, cancellationToken);
            loaded[slot.Table] = key;
            return key;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<ECDsa> LoadOrCreateAsync(SigningKeySlot slot, CancellationToken cancellationToken)
    {
        var protector = dataProtection.CreateProtector(slot.Purpose);
        var read = $"select protected_private_key from {slot.Table} order by created_at limit 1";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var stored = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(read, cancellationToken: cancellationToken));
        if (stored is null)
        {
            using var generated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            // Two replicas starting together may both generate; the first insert wins and both read it back.
            await connection.ExecuteAsync(new CommandDefinition($"""
                insert into {slot.Table} (key_id, public_key, protected_private_key, created_at)
                select @KeyId, @PublicKey, @Protected, @Now
                where not exists (select 1 from {slot.Table})
                """,
                new
                {
                    KeyId = slot.KeyIdOf(generated),
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
                $"The {slot.Name} in the database was protected by a Data Protection key ring this Portal cannot read " +
                $"(another DataProtection:KeyEncryptionKey, or a ring from before the shared one, docs/adr/0059). {slot.Remedy}", ex);
        }
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(privateKey), out _);
        return key;
    }
}
