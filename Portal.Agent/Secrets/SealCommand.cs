using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Secrets;

/// <summary>
/// <c>cogrion-agent seal</c>: seals a secret from a terminal, for a tenant who does not trust a script the
/// Portal serves (docs/secrets.md). It makes the same checks as the browser module (the pinned fingerprint,
/// the statement's signature, tenant, workspace, expiry) and the same ciphertext (HPKE, the same associated
/// data); its output is the body of POST /api/v1/tenants/{tenant}/workspaces/{name}/secrets.
/// </summary>
public static class SealCommand
{
    public const string Name = "seal";

    private const string Usage = """
        usage: cogrion-agent seal --offer FILE --fingerprint "XXXX XXXX …" --namespace NS --name NAME --version N
                                  (--from-file KEY=PATH)... [--from-stdin KEY]
          --offer        the workspace's encryption key offer (GET /api/v1/tenants/{tenant}/workspaces/{name}/secrets/encryption-key)
          --fingerprint  the agent identity fingerprint you read in the cluster (ConfigMap cogrion-agent/cogrion-agent-identity)
        Prints the sealed secret (JSON) to standard output; no value is ever printed.
        """;

    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        try
        {
            var options = Parse(args);
            var offer = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Required(options, "--offer")[0]),
                ProtocolJson.Default.EncryptionKeyOffer)
                ?? throw new ArgumentException("The offer file is empty.");
            var statement = SealedSecrets.VerifyStatement(Required(options, "--fingerprint")[0], offer.IdentityPublicKey, offer.Statement,
                offer.TenantId, offer.WorkspaceId, DateTimeOffset.UtcNow);
            if (statement.AgentId != offer.AgentId) throw new CryptographicException("The statement names another agent than the offer.");

            var values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var pair in options.GetValueOrDefault("--from-file") ?? [])
            {
                var at = pair.IndexOf('=');
                if (at <= 0) throw new ArgumentException($"--from-file takes KEY=PATH, not '{pair}'.");
                values[pair[..at]] = await File.ReadAllBytesAsync(pair[(at + 1)..]);
            }
            if (options.GetValueOrDefault("--from-stdin") is [var stdinKey])
                values[stdinKey] = Encoding.UTF8.GetBytes((await input.ReadToEndAsync()).TrimEnd('\r', '\n'));
            if (values.Count == 0) throw new ArgumentException("Give at least one value with --from-file or --from-stdin.");
            if (values.Keys.FirstOrDefault(k => !SealedSecrets.DataKey().IsMatch(k)) is { } badKey)
                throw new ArgumentException($"'{badKey}' is not a valid Secret key (letters, digits, '-', '_', '.').");
            var name = Required(options, "--name")[0];
            if (!SealedSecrets.SecretName().IsMatch(name)) throw new ArgumentException($"'{name}' is not a valid Secret name.");
            if (!long.TryParse(Required(options, "--version")[0],
                out var version) || version < 1) throw new ArgumentException("--version must be a positive number.");

            var header = new SealedSecret(offer.TenantId, offer.WorkspaceId, Required(options, "--namespace")[0], name, version, statement.KeyId,
                Guid.NewGuid(), Math.Min(statement.NotAfter + (long)SealedSecrets.KeyGrace.TotalSeconds,
                    DateTimeOffset.UtcNow.Add(SealedSecrets.MaxLifetime).ToUnixTimeSeconds() - 60), []);
            var sealedSecret = SealedSecrets.Seal(header, values, Base64Url.DecodeFromChars(statement.PublicKey));
            foreach (var value in values.Values) CryptographicOperations.ZeroMemory(value);
            await output.WriteLineAsync(JsonSerializer.Serialize(sealedSecret, ProtocolJson.Default.SealedSecret));
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException or IOException or JsonException or FormatException)
        {
            await error.WriteLineAsync($"seal: {ex.Message}");
            await error.WriteLineAsync(Usage);
            return 2;
        }
    }

    private static Dictionary<string, List<string>> Parse(string[] args)
    {
        var options = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--",
                StringComparison.Ordinal) || i + 1 >= args.Length) throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            (options.TryGetValue(args[i], out var list) ? list : options[args[i]] = []).Add(args[i + 1]);
        }
        return options;
    }

    private static List<string> Required(Dictionary<string, List<string>> options, string name) =>
        options.TryGetValue(name, out var values) && values.Count > 0 ? values : throw new ArgumentException($"{name} is required.");
}
