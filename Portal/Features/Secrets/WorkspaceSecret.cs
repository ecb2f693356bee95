namespace Cogrion.Portal.Features.Secrets;

/// <summary>Where a secret's last change stands, as the agent reported it.</summary>
public enum SecretStatus
{
    /// <summary>Sealed and relayed; the agent has not reported yet.</summary>
    Pending,
    Applied,
    /// <summary>The agent refused the delivery (a replay, a rollback, expired, or it did not open); its reason is kept.</summary>
    Refused,
    Failed,
    /// <summary>Deletion in the cluster was asked for and not yet reported.</summary>
    Deleting,
}

/// <summary>A Kubernetes Secret of a workspace, as the Portal knows it: metadata only, never a value.</summary>
public sealed record WorkspaceSecret(
    Guid Id,
    Guid WorkspaceId,
    string Namespace,
    string Name,
    IReadOnlyList<string> Keys,
    long Version,
    SecretStatus Status,
    string? StatusMessage,
    string UpdatedBy,
    DateTimeOffset UpdatedAt,
    DateTimeOffset CreatedAt);

public static class SecretStatusText
{
    public static string ToDbText(this SecretStatus status) => status.ToString().ToLowerInvariant();

    public static SecretStatus Parse(string text) => Enum.Parse<SecretStatus>(text, ignoreCase: true);
}
