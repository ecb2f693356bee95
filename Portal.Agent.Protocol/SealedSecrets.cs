using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Cogrion.Agent.Protocol;

/// <summary>
/// What an agent publishes about an encryption key, signed with its identity key (a JWS of type
/// <see cref="SealedSecrets.StatementJwsType"/>): the browser checks this signature against the identity
/// fingerprint the tenant admin confirmed, so the Portal cannot substitute a key of its own.
/// <paramref name="PublicKey"/> is the uncompressed P-256 point, base64url; <paramref name="NotAfter"/> unix seconds.
/// </summary>
public sealed record EncryptionKeyStatement(Guid TenantId, Guid WorkspaceId, Guid AgentId, string KeyId, string PublicKey, long NotAfter);

/// <summary>PUT /encryption-key: the agent's current encryption key statement (compact JWS).</summary>
public sealed record EncryptionKeyPublication(string Statement);

/// <summary>One value of a Kubernetes Secret, sealed: HPKE enc and ciphertext, base64url.</summary>
public sealed record SealedValue(string Key, string Enc, string Ciphertext);

/// <summary>
/// A secret sealed to one agent's encryption key. Every field but the values is bound as associated
/// data, so the Portal (which relays it) cannot move it to another workspace, namespace, name, key or
/// version, nor stretch its not-after (unix seconds), without the agent refusing to open it.
/// </summary>
public sealed record SealedSecret(
    Guid TenantId,
    Guid WorkspaceId,
    string Namespace,
    string Name,
    long Version,
    string EncryptionKeyId,
    Guid RequestId,
    long NotAfter,
    IReadOnlyList<SealedValue> Values);

/// <summary>The payload of secret.apply: which sealed delivery to fetch (GET /secret-deliveries/{id}); no ciphertext, no value.</summary>
public sealed record ApplySecretPayload(Guid DeliveryId, string Namespace, string Name, long Version);

/// <summary>The payload of secret.delete.</summary>
public sealed record DeleteSecretPayload(string Namespace, string Name);

/// <summary>The rules both sealers (the browser module, the agent's `seal`) and the opener (the agent) share.</summary>
public static partial class SealedSecrets
{
    public const string StatementJwsType = "cogrion-encryption-key+jws";
    /// <summary>HPKE info: names the use, so a ciphertext made for anything else never opens as a secret.</summary>
    public const string Info = "cogrion-secret-v1";
    /// <summary>The longest a sealed secret may live (its not-after from now): the Portal deletes ciphertext by then.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);
    /// <summary>How long an encryption key is offered to senders; the agent keeps its private half <see cref="KeyGrace"/> longer.</summary>
    public static readonly TimeSpan KeyLifetime = TimeSpan.FromDays(7);
    public static readonly TimeSpan KeyGrace = TimeSpan.FromHours(48);
    public const string ManagedLabel = "cogrion.dev/managed-secret";
    public const string VersionAnnotation = "cogrion.dev/secret-version";
    public const string RequestAnnotation = "cogrion.dev/secret-request";
    public const string CommandAnnotation = "cogrion.dev/secret-command";

    /// <summary>A Kubernetes Secret name: a DNS subdomain.</summary>
    [GeneratedRegex("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")]
    public static partial Regex SecretName();

    /// <summary>A Kubernetes Secret data key.</summary>
    [GeneratedRegex("^[-._a-zA-Z0-9]{1,253}$")]
    public static partial Regex DataKey();

    /// <summary>
    /// The associated data of one value: every field that says where and when it may be applied, one per
    /// line (none of them can hold a line break: names, keys, ids and numbers only).
    /// </summary>
    public static byte[] AssociatedData(SealedSecret secret, string key) => Encoding.UTF8.GetBytes(string.Join('\n',
        Info, secret.TenantId.ToString("D"), secret.WorkspaceId.ToString("D"), secret.Namespace, secret.Name, key,
        secret.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), secret.EncryptionKeyId, secret.RequestId.ToString("D"),
        secret.NotAfter.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Seals each value; the caller has checked the statement behind <paramref name="recipientPublicKey"/>.</summary>
    public static SealedSecret Seal(SealedSecret header, IReadOnlyDictionary<string, byte[]> values, ReadOnlySpan<byte> recipientPublicKey)
    {
        var sealedValues = new List<SealedValue>();
        foreach (var (key, value) in values.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            var (enc, ciphertext) = Hpke.Seal(recipientPublicKey, Encoding.ASCII.GetBytes(Info), AssociatedData(header, key), value);
            sealedValues.Add(new SealedValue(key, Base64Url.EncodeToString(enc), Base64Url.EncodeToString(ciphertext)));
        }
        return header with { Values = sealedValues };
    }

    /// <summary>Opens every value, or throws <see cref="CryptographicException"/> when any was changed or sealed for something else.</summary>
    public static IReadOnlyDictionary<string, byte[]> Open(SealedSecret secret, ECDiffieHellman recipient)
    {
        var values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var value in secret.Values)
        {
            if (!DataKey().IsMatch(value.Key) || values.ContainsKey(value.Key))
                throw new CryptographicException($"'{value.Key}' is not a valid, unique Secret key.");
            byte[] enc, ciphertext;
            try
            {
                enc = Base64Url.DecodeFromChars(value.Enc);
                ciphertext = Base64Url.DecodeFromChars(value.Ciphertext);
            }
            catch (FormatException)
            {
                throw new CryptographicException($"The sealed value of '{value.Key}' is not base64url.");
            }
            values[value.Key] = Hpke.Open(recipient, enc, Encoding.ASCII.GetBytes(Info), AssociatedData(secret, value.Key), ciphertext);
        }
        return values;
    }

    /// <summary>The encryption key's id: the first 16 bytes of the SHA-256 of its encoded point, base64url.</summary>
    public static string EncryptionKeyId(ReadOnlySpan<byte> encodedPublicKey)
        => Base64Url.EncodeToString(SHA256.HashData(encodedPublicKey).AsSpan(0, 16));

    /// <summary>
    /// The identity fingerprint a person compares: the first 16 bytes of the SHA-256 of the identity key's
    /// SubjectPublicKeyInfo, as 8 groups of 4 upper-case hex digits ("3F2A 91C0 …").
    /// </summary>
    public static string Fingerprint(ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        var hex = Convert.ToHexString(SHA256.HashData(subjectPublicKeyInfo).AsSpan(0, 16));
        return string.Join(' ', Enumerable.Range(0, 8).Select(i => hex.Substring(i * 4, 4)));
    }

    public static string Fingerprint(ECDsa identityKey) => Fingerprint(identityKey.ExportSubjectPublicKeyInfo());

    /// <summary>Compares fingerprints as a person would: case, spaces and colons do not matter.</summary>
    public static bool SameFingerprint(string? a, string? b) => Normalize(a) is { Length: 32 } left && left == Normalize(b);

    private static string Normalize(string? fingerprint) =>
        new((fingerprint ?? "").Where(Uri.IsHexDigit).Select(char.ToUpperInvariant).ToArray());

    /// <summary>
    /// The checks a sender makes before sealing (the browser module makes the same): the identity key has the
    /// pinned fingerprint, the statement is signed by it, names this tenant, workspace and agent, and is not expired.
    /// </summary>
    public static EncryptionKeyStatement VerifyStatement(
        string pinnedFingerprint, string identityPublicKey, string statement, Guid tenantId, Guid workspaceId, DateTimeOffset now)
    {
        if (!ProtocolKeys.TryImportPublicKey(identityPublicKey, out var identity))
            throw new CryptographicException("The agent's identity key is not a P-256 public key.");
        using (identity)
        {
            if (!SameFingerprint(Fingerprint(identity!), pinnedFingerprint))
                throw new CryptographicException(
                    $"The agent's identity fingerprint is {Fingerprint(identity!)}, not the pinned {pinnedFingerprint}.");
            if (!Jws.TryVerify(statement, ProtocolJson.Default.EncryptionKeyStatement, StatementJwsType, identity!, out var verified))
                throw new CryptographicException("The encryption key's statement is not signed by the pinned identity key.");
            if (verified!.TenantId != tenantId || verified.WorkspaceId != workspaceId)
                throw new CryptographicException("The encryption key's statement is for another tenant or workspace.");
            if (verified.NotAfter <= now.ToUnixTimeSeconds())
                throw new CryptographicException("The encryption key's statement has expired.");
            var point = Base64Url.DecodeFromChars(verified.PublicKey);
            if (EncryptionKeyId(point) != verified.KeyId) throw new CryptographicException("The statement's key id does not match its key.");
            return verified;
        }
    }
}

/// <summary>
/// What the Portal offers a sender for one workspace (GET …/secrets/encryption-key): the agent's identity
/// key as registered, its fingerprint (for convenience only: senders compare with the one they pinned),
/// and the current encryption key statement. The next version of a secret is the sender's to choose.
/// </summary>
public sealed record EncryptionKeyOffer(Guid TenantId, Guid WorkspaceId, Guid AgentId, string IdentityPublicKey, string Fingerprint,
    string Statement);
