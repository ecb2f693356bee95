
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Features.CloudAccounts;

public enum CloudProvider { Aws, [EnumText("alicloud")] AliCloud, Sandbox }

public enum CloudAccountStatus { Pending, Verifying, Verified, Failed }

/// <summary>
/// A tenant's cloud account: which role the Portal assumes there, and with which external ID.
/// There is no key here, by design: no standing cloud access.
/// </summary>
public sealed record CloudAccount(
    Guid Id,
    Guid TenantId,
    CloudProvider Provider,
    string Name,
    string AccountRef,
    string RoleArn,
    string ExternalId,
    CloudAccountStatus Status,
    string? StatusReason,
    string? VerifiedIdentity,
    DateTimeOffset? VerifiedAt,
    DateTimeOffset CreatedAt)
{
    public bool IsVerified => Status == CloudAccountStatus.Verified;
}

public static class CloudProviderText
{
    public static string ToText(this CloudProvider provider) => provider switch
    {
        CloudProvider.Aws => "AWS",
        CloudProvider.AliCloud => "AliCloud",
        _ => "Sandbox (simulated)",
    };

    /// <summary>The value stored in the database and used in URLs and module paths (terraform/aws, terraform/alicloud).</summary>
    public static string ToKey(this CloudProvider provider) => provider.ToDbText();

    public static CloudProvider Parse(string key) =>
        EnumText.TryParse<CloudProvider>(key, out var provider) ? provider
            : throw new ArgumentOutOfRangeException(nameof(key), key, "Unknown cloud provider.");
}
