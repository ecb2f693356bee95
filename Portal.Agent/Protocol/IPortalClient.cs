namespace Cogrion.Agent.Protocol;

/// <summary>Agent protocol v1 as the agent speaks it. Every connection is opened by the agent.</summary>
public interface IPortalClient
{
    Task<RegistrationResponse> RegisterAsync(RegistrationRequest request, CancellationToken cancellationToken);

    /// <summary>Long poll: the signed commands pending for this agent, or none when the Portal's wait (at most <paramref name="wait"/>)
    /// ended.</summary>
    Task<IReadOnlyList<string>> WaitForCommandsAsync(TimeSpan wait, CancellationToken cancellationToken);

    Task ReportResultAsync(Guid commandId, CommandResult result, CancellationToken cancellationToken);

    Task<HeartbeatResponse> SendHeartbeatAsync(HeartbeatRequest heartbeat, CancellationToken cancellationToken);

    /// <summary>Registers a new public key during an agent.rotate-key command.</summary>
    Task RotateKeyAsync(KeyRotationRequest request, CancellationToken cancellationToken);

    /// <summary>Publishes the agent's current encryption key statement (signed with its identity key).</summary>
    Task PublishEncryptionKeyAsync(EncryptionKeyPublication publication, CancellationToken cancellationToken);

    /// <summary>A sealed secret the Portal holds for this agent, or null when it no longer does (acknowledged or expired).</summary>
    Task<SealedSecret?> GetSecretDeliveryAsync(Guid deliveryId, CancellationToken cancellationToken);

    /// <summary>Drops the cached access token, so the next call signs a fresh assertion (after a key rotation).</summary>
    void ForgetAccessToken();
}
