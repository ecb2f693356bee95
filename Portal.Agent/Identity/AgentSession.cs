using System.Security.Cryptography;
using Cogrion.Agent.Protocol;

namespace Cogrion.Agent.Identity;

/// <summary>
/// The registered agent in memory: its state, its signing key, and the Portal's pinned command key.
/// Swapped as a whole on key rotation, so a reader never sees a new key with an old state.
/// </summary>
public sealed class AgentSession
{
    private Current? current;

    private sealed record Current(AgentState State, ECDsa Key, ECDsa? PendingKey, ECDsa PortalCommandKey);

    public bool IsRegistered => current is not null;

    public AgentState State => (current ?? throw NotRegistered()).State;

    public ECDsa PortalCommandKey => (current ?? throw NotRegistered()).PortalCommandKey;

    public void Use(AgentState state)
    {
        var key = ImportPrivate(state.PrivateKey);
        var pending = state.PendingPrivateKey is null ? null : ImportPrivate(state.PendingPrivateKey);
        if (!ProtocolKeys.TryImportPublicKey(state.CommandPublicKey, out var portalKey))
            throw new InvalidOperationException("The stored Portal command key is not a P-256 public key; the agent's state is damaged.");
        current = new Current(state, key, pending, portalKey!);
    }

    /// <summary>
    /// A client assertion: a JWS signed with the agent's key, valid for one minute, for one use.
    /// With <paramref name="usePendingKey"/> it is signed with the key being rotated in.
    /// </summary>
    public string CreateAssertion(DateTimeOffset now, bool usePendingKey = false)
    {
        var session = current ?? throw NotRegistered();
        var key = usePendingKey ? session.PendingKey ?? session.Key : session.Key;
        var agentId = session.State.AgentId.ToString();
        var claims = new AssertionClaims(agentId, agentId, session.State.TokenAudience, Guid.NewGuid().ToString("N"),
            now.ToUnixTimeSeconds(), now.AddMinutes(1).ToUnixTimeSeconds());
        return Jws.Sign(claims, ProtocolJson.Default.AssertionClaims, ProtocolV1.AssertionJwsType, ProtocolKeys.KeyId(key), key);
    }

    /// <summary>Signs a statement with the agent's identity key (the one the tenant's fingerprint names).</summary>
    public string SignStatement(EncryptionKeyStatement statement)
    {
        var session = current ?? throw NotRegistered();
        return Jws.Sign(statement, ProtocolJson.Default.EncryptionKeyStatement, SealedSecrets.StatementJwsType, ProtocolKeys.KeyId(session.Key),
            session.Key);
    }

    /// <summary>The identity key's fingerprint, as the tenant compares it.</summary>
    public string Fingerprint => SealedSecrets.Fingerprint((current ?? throw NotRegistered()).Key);

    public bool HasPendingKey => current?.PendingKey is not null;

    private static ECDsa ImportPrivate(string pkcs8)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(pkcs8), out _);
        return key;
    }

    private static InvalidOperationException NotRegistered() => new("The agent has not registered yet.");
}
