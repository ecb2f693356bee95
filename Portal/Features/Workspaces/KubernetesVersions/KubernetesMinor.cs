using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Cogrion.Portal.Features.Workspaces.KubernetesVersions;

/// <summary>
/// A Kubernetes minor version, "1.35": what the module's <c>kubernetes_version</c> carries (the cloud picks
/// the patch). Compared as numbers, so 1.100 follows 1.99, never as text.
/// </summary>
public readonly record struct KubernetesMinor(int Major, int Minor) : IComparable<KubernetesMinor>
{
    public static bool TryParse([NotNullWhen(true)] string? text, out KubernetesMinor version)
    {
        version = default;
        var parts = text?.Split('.');
        if (parts is not [var major, var minor]
            || !int.TryParse(major, NumberStyles.None, CultureInfo.InvariantCulture, out var ma)
            || !int.TryParse(minor, NumberStyles.None, CultureInfo.InvariantCulture, out var mi)
            || major.Length > 1 && major[0] == '0' || minor.Length > 1 && minor[0] == '0')
            return false;
        version = new KubernetesMinor(ma, mi);
        return true;
    }

    public static KubernetesMinor Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a Kubernetes minor version such as 1.35.");

    public int CompareTo(KubernetesMinor other) => Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    public static bool operator <(KubernetesMinor left, KubernetesMinor right) => left.CompareTo(right) < 0;
    public static bool operator >(KubernetesMinor left, KubernetesMinor right) => left.CompareTo(right) > 0;
    public static bool operator <=(KubernetesMinor left, KubernetesMinor right) => left.CompareTo(right) <= 0;
    public static bool operator >=(KubernetesMinor left, KubernetesMinor right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Major}.{Minor}";
}
