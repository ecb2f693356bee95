using System.Security.Cryptography;
using Cogrion.Agent.Protocol;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Agents.Commands;

/// <summary>The Portal's command-signing key and the public half agents pin at registration.</summary>
public sealed record CommandSigningKey(string KeyId, ECDsa Key, string PublicKey);

/// <summary>
/// Where the command-signing key comes from: the configured PEM (production, from a secret store),
/// or else one generated at first use and kept in the database with its private half protected by
/// Data Protection, so every replica signs with the same key (docs/adr/0032): every replica reads
/// it because the key ring itself is shared in the database (docs/adr/0059).
/// </summary>
public sealed class CommandSigningKeyStore(
    NpgsqlDataSource dataSource,
    IDataProtectionProvider dataProtection,
    IOptions<AgentApiOptions> options,
    TimeProvider time)
{
    private const string Purpose = "Cogrion.Agents.CommandSigningKey.v1";
    private readonly SemaphoreSlim gate = new(1, 1);
    private CommandSigningKey? current;

    public static bool TryParsePem(string pem, out ECDsa? key)
    {
        key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize == 256) return true;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            // Reported by the options validator.
        }
        key.Dispose();
        key = null;
        return false;
    }

    public async ValueTask<CommandSigningKey> GetAsync(CancellationToken cancellationToken)
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

    private async Task<CommandSigningKey> LoadAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options.Value.CommandSigningKey) && TryParsePem(options.Value.CommandSigningKey, out var configured))
            return Describe(configured!);

        var protector = dataProtection.CreateProtector(Purpose);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var stored = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
            "select protected_private_key from agent_command_signing_keys order by created_at limit 1", cancellationToken: cancellationToken));
        if (stored is null)
        {
            using var generated = ProtocolKeys.Create();
            // Two replicas starting together may both generate; the first insert wins and both read it back.
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into agent_command_signing_keys (key_id, public_key, protected_private_key, created_at)
                select @KeyId, @PublicKey, @Protected, @Now
                where not exists (select 1 from agent_command_signing_keys)
                """,
                new
                {
                    KeyId = ProtocolKeys.KeyId(generated),
                    PublicKey = generated.ExportSubjectPublicKeyInfo(),
                    Protected = protector.Protect(Convert.ToBase64String(generated.ExportPkcs8PrivateKey())),
                    Now = time.GetUtcNow(),
                }, cancellationToken: cancellationToken));
            stored = await connection.QueryFirstAsync<string>(new CommandDefinition(
                "select protected_private_key from agent_command_signing_keys order by created_at limit 1", cancellationToken: cancellationToken));
        }
        string privateKey;
        try
        {
            privateKey = protector.Unprotect(stored);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException(
                "The command-signing key in the database was protected by a Data Protection key ring this Portal cannot read " +
                "(another DataProtection:KeyEncryptionKey, or a ring from before the shared one, docs/adr/0059). " +
                "Configure Agents:CommandSigningKey, or restore the key-encryption key.", ex);
        }
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(privateKey), out _);
        return Describe(key);
    }

    private static CommandSigningKey Describe(ECDsa key) => new(ProtocolKeys.KeyId(key), key, ProtocolKeys.ExportPublicKey(key));
}
