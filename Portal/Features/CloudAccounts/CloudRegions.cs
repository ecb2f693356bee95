namespace Cogrion.Portal.Features.CloudAccounts;

public sealed record CloudRegion(string Code, string Name);

/// <summary>
/// The curated regions per provider that the workspace wizard offers: those where the managed
/// Kubernetes service (EKS, ACK) and the database options are available. A short, known list
/// beats a free-text field that fails twenty minutes into a run.
/// </summary>
public static class CloudRegions
{
    public static IReadOnlyList<CloudRegion> For(CloudProvider provider) => provider switch
    {
        CloudProvider.Aws =>
        [
            new("us-east-1", "US East (N. Virginia)"),
            new("us-east-2", "US East (Ohio)"),
            new("us-west-2", "US West (Oregon)"),
            new("eu-west-1", "Europe (Ireland)"),
            new("eu-central-1", "Europe (Frankfurt)"),
            new("ap-southeast-1", "Asia Pacific (Singapore)"),
            new("ap-northeast-1", "Asia Pacific (Tokyo)"),
        ],
        CloudProvider.AliCloud =>
        [
            new("cn-hangzhou", "China (Hangzhou)"),
            new("cn-shanghai", "China (Shanghai)"),
            new("cn-beijing", "China (Beijing)"),
            new("cn-shenzhen", "China (Shenzhen)"),
            new("ap-southeast-1", "Singapore"),
            new("eu-central-1", "Germany (Frankfurt)"),
        ],
        _ =>
        [
            new("sandbox-local-1", "Sandbox local 1 (simulated)"),
            new("sandbox-local-2", "Sandbox local 2 (simulated)"),
        ],
    };

    public static bool IsOffered(CloudProvider provider, string code) => For(provider).Any(r => r.Code == code);
}
