using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Cogrion.Portal.Infrastructure.Input;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>
/// What a workspace request must satisfy before anything runs. One set of rules for the wizard and
/// the API, with errors per field (the API's names). The pure checks take what the database knows
/// (the account, the other workspaces' ranges, whether the name is taken) as arguments, so the
/// store can evaluate them inside the transaction that creates the workspace.
/// </summary>
public static partial class WorkspaceRules
{
    public const int MaxNameLength = 32;

    /// <summary>The private ranges of RFC 1918: a workspace network must lie inside one.</summary>
    private static readonly IPNetwork[] PrivateRanges = [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.168.0.0/16")];

    [GeneratedRegex("^[a-z]([a-z0-9-]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    /// <summary>Every rule, in wizard order. An empty result means the request may be created.</summary>
    /// <param name="versions">Which Kubernetes versions the account's provider offers today.</param>
    public static FieldErrors Check(NewWorkspace input, CloudAccount? account, IReadOnlyList<string> otherNetworksInAccountRegion, bool nameTaken,
        KubernetesVersionPolicy versions)
    {
        var errors = new FieldErrors();
        errors.AddIf("cloudAccountId", CheckAccount(input.CloudAccountId, account));
        var provider = account?.Provider;
        errors.AddIf("name", CheckName(input.Name) ?? (nameTaken ? $"This tenant already has a workspace named '{input.Name}'." : null));
        if (provider is { } p)
        {
            errors.AddIf("region", CheckRegion(p, input.Region));
            CheckNodes(errors, p, input);
            errors.AddIf("database", CheckDatabase(p, input.Database));
        }
        errors.AddIf("networkCidr", CheckCidr(input.NetworkCidr) ?? CheckOverlap(input.NetworkCidr!, otherNetworksInAccountRegion));
        // Without an account there is no provider to ask; the account's error says what to fix first.
        if (provider is { } offeredOn) errors.AddIf("kubernetesVersion", versions.Check(offeredOn, input.KubernetesVersion));
        return errors;
    }

    public static string? CheckAccount(Guid? accountId, CloudAccount? account) => (accountId, account) switch
    {
        (null, _) => "Choose the cloud account to create the workspace in.",
        // Another tenant's account is simply not found: the two must look the same.
        (_, null) => "This cloud account does not exist in this tenant.",
        (_, { IsVerified: false }) => $"The cloud account '{account.Name}' is not verified yet ({account.Status.ToDbText()}): verify it first.",
        _ => null,
    };

    public static string? CheckName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "Give the workspace a name.";
        // Said plainly: the DNS-label rule below would refuse it too, but not say why.
        if (InputText.StorableProblem(name) is { } problem) return problem;
        if (name.Length > MaxNameLength) return $"At most {MaxNameLength} characters.";
        if (!DnsLabel()
            .IsMatch(name)) return "Lowercase letters, digits and hyphens only, starting with a letter and not ending with a hyphen (it becomes a " +
            "DNS name).";
        return null;
    }

    public static string? CheckRegion(CloudProvider provider, string? region) =>
        string.IsNullOrEmpty(region) ? "Choose a region."
        : CloudRegions.IsOffered(provider, region) ? null
        : $"'{region}' is not a region offered for {provider.ToText()}.";

    /// <summary>A private IPv4 range, /16 (65,536 addresses) to /20 (4,096): enough subnets for the module's layout.</summary>
    public static string? CheckCidr(string? cidr)
    {
        if (string.IsNullOrWhiteSpace(cidr)) return "Enter the network range, e.g. 10.40.0.0/16.";
        var parts = cidr.Split('/');
        if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > 32)
            return $"'{cidr}' is not an IPv4 range in CIDR notation such as 10.40.0.0/16.";
        // Say which range was meant when bits are set past the prefix. Checked here rather than left to
        // IPNetwork.TryParse, which refused such input up to .NET 9 and accepts it (masked) from .NET 10.
        var given = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
        var masked = given & (prefix == 0 ? 0 : uint.MaxValue << (32 - prefix));
        if (masked != given)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, masked);
            return $"'{cidr}' has host bits set: the range starts at {new IPAddress(bytes)}/{prefix}.";
        }
        var network = new IPNetwork(address, prefix);
        if (network.PrefixLength is < 16 or > 20) return "The prefix must be from /16 to /20.";
        if (!PrivateRanges.Any(range => range.Contains(network.BaseAddress) && range.PrefixLength <= network.PrefixLength))
            return "Use a private range: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.";
        return null;
    }

    /// <summary>Two ranges overlap exactly when one contains the other's first address.</summary>
    public static string? CheckOverlap(string cidr, IReadOnlyList<string> others)
    {
        var network = IPNetwork.Parse(cidr);
        foreach (var other in others)
        {
            var existing = IPNetwork.Parse(other);
            if (existing.Contains(network.BaseAddress) || network.Contains(existing.BaseAddress))
                return $"Overlaps {other}, used by another workspace in this account and region.";
        }
        return null;
    }

    private static void CheckNodes(FieldErrors errors, CloudProvider provider, NewWorkspace input)
    {
        if (input.UseKarpenter)
        {
            if (!WorkspaceCatalog.SupportsKarpenter(provider))
                errors.Add("useKarpenter", $"Karpenter is available on AWS only; use node pools on {provider.ToText()}.");
            return;
        }
        if (input.NodePools.Count == 0) { errors.Add("nodePools", "Add at least one node pool (or use Karpenter on AWS)."); return; }
        if (input.NodePools.Count > WorkspaceCatalog.MaxNodePools) errors.Add("nodePools", $"At most {WorkspaceCatalog.MaxNodePools} node pools.");
        if (input.NodePools.Select(p => p.Name).Distinct(StringComparer.Ordinal).Count() != input.NodePools.Count)
            errors.Add("nodePools", "Each node pool needs a different name.");
        for (var i = 0; i < input.NodePools.Count; i++)
        {
            var pool = input.NodePools[i];
            var field = $"nodePools[{i}]";
            if (string.IsNullOrEmpty(pool.Name) || pool.Name.Length > 20 || !DnsLabel().IsMatch(pool.Name))
                errors.Add(field + ".name", "A short name: lowercase letters, digits and hyphens, at most 20 characters.");
            if (!WorkspaceCatalog.InstanceTypes(provider).Contains(pool.InstanceType))
                errors.Add(field + ".instanceType", $"Choose an instance type offered for {provider.ToText()}.");
            if (pool.MinSize < 1 || pool.MaxSize > WorkspaceCatalog.MaxNodesPerPool || pool.MinSize > pool.MaxSize)
                errors.Add(field + ".size", $"Sizes must satisfy 1 ≤ min ≤ max ≤ {WorkspaceCatalog.MaxNodesPerPool}.");
        }
    }

    public static string? CheckDatabase(CloudProvider provider, DatabaseInput? database)
    {
        if (database is null) return null;
        if (!WorkspaceCatalog.DatabaseEngines(provider).Contains(database.Engine))
            return $"{provider.ToText()} offers: {string.Join(", ", WorkspaceCatalog.DatabaseEngines(provider))}.";
        if (!WorkspaceCatalog.DatabaseSizes(provider).Any(s => s.Key == database.Size))
            return "Choose a database size: small, medium or large.";
        return null;
    }
}
