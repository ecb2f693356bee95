using System.Text.RegularExpressions;

namespace Cogrion.Portal.Infrastructure.Configuration;

/// <summary>The DNS rules (RFC 1123) that slugs, workspace names and domains follow.</summary>
public static partial class DnsNames
{
    public const int MaxLabelLength = 63;
    public const int MaxDomainLength = 253;

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex Label();

    public static bool IsValidLabel(string value) => Label().IsMatch(value);

    public static bool IsValidDomain(string value) =>
        value.Length <= MaxDomainLength && value.Split('.') is { Length: >= 2 } labels && labels.All(IsValidLabel);
}
