using System.Security.Cryptography;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.DataProtection;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents.Commands;

/// <summary>The Portal's command-signing key and the public half agents pin at registration.</summary>
public sealed record CommandSigningKey(string KeyId, ECDsa Key, string PublicKey);

/// <summary>
/// Where the command-signing key comes from: the configured PEM (production, from a secret store), or else one of the Portal's
/// stored signing keys, generated at first use and shared by every replica (docs/adr/0032, docs/adr/0059).
/// </summary>
public sealed class CommandSigningKeyStore(StoredSigningKeys keys, IOptions<AgentApiOptions> options)
{
    private static readonly SigningKeySlot Slot = new("agent_command_signing_keys", "Cogrion.Agents.CommandSigningKey.v1",
        "command-signing key", "Configure Agents:CommandSigningKey, or restore the key-encryption key.", ProtocolKeys.KeyId);

    private CommandSigningKey? configured;

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
        if (configured is not null) return configured;
        if (!string.IsNullOrWhiteSpace(options.Value.CommandSigningKey) && TryParsePem(options.Value.CommandSigningKey, out var pem))
            return configured = Describe(pem!);
        return Describe(await keys.GetAsync(Slot, cancellationToken));
    }

    private static CommandSigningKey Describe(ECDsa key) => new(ProtocolKeys.KeyId(key), key, ProtocolKeys.ExportPublicKey(key));
}
