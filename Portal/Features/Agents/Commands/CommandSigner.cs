using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Features.Agents.Commands;

/// <summary>Signs command envelopes with the Portal's key; the agent verifies them against the key it pinned at registration.</summary>
public sealed class CommandSigner(CommandSigningKeyStore keys)
{
    public async Task<string> SignAsync(CommandEnvelope envelope, CancellationToken cancellationToken)
    {
        var key = await keys.GetAsync(cancellationToken);
        return Jws.Sign(envelope, ProtocolJson.Default.CommandEnvelope, ProtocolV1.CommandJwsType, key.KeyId, key.Key);
    }
}
