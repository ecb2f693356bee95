using System.Globalization;

namespace Cogrion.Agent.Protocol;

/// <summary>Kubernetes resource quantities ("3500m", "16Gi"), as far as inventory and the catalog's capacity check need them.</summary>
public static class Quantities
{
    public static double ParseCpu(string? quantity)
    {
        if (string.IsNullOrWhiteSpace(quantity)) return 0;
        return quantity.EndsWith('m')
            ? double.Parse(quantity[..^1], CultureInfo.InvariantCulture) / 1000
            : double.Parse(quantity, CultureInfo.InvariantCulture);
    }

    public static long ParseBytes(string? quantity)
    {
        if (string.IsNullOrWhiteSpace(quantity)) return 0;
        (string Suffix, double Factor)[] units =
        [
            ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40),
            ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
        ];
        foreach (var (suffix, factor) in units)
            if (quantity.EndsWith(suffix, StringComparison.Ordinal))
                return (long)(double.Parse(quantity[..^suffix.Length], CultureInfo.InvariantCulture) * factor);
        return (long)double.Parse(quantity, CultureInfo.InvariantCulture);
    }
}
