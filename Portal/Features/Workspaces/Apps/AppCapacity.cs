using System.Globalization;
using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>What the capacity check found: a sentence for the form, and what is short (null: it fits, or the capacity is unknown).</summary>
public sealed record AppCapacityCheck(string Summary, string? Shortfall);

/// <summary>
/// The check before an install: the app's resources (catalog app.json, the CPU and memory its namespace's quota lets it
/// request) against the cluster's free capacity as its agent last reported it (the nodes' allocatable minus the requests
/// of the pods bound to them). Unknown capacity (no report yet, or an agent that cannot list pods) is said, not refused.
/// </summary>
public static class AppCapacity
{
    public static AppCapacityCheck Check(CatalogApp app, ClusterInventory? inventory)
    {
        var cpu = Quantities.ParseCpu(app.Resources.Cpu);
        var memory = Quantities.ParseBytes(app.Resources.Memory);
        var needs = $"{app.DisplayName} needs {Cpu(cpu)} and {Memory(memory)} of memory";
        if (inventory?.Available is not { } free)
            return new AppCapacityCheck($"{needs}; the cluster's free capacity is not known yet (its agent has not reported it).", null);
        var has = $"the cluster has {Cpu(free.CpuCores)} and {Memory(free.MemoryBytes)} free (allocatable minus requests)";
        var short_ = new List<string>();
        if (cpu > free.CpuCores) short_.Add($"{Cpu(cpu - free.CpuCores)}");
        if (memory > free.MemoryBytes) short_.Add($"{Memory(memory - free.MemoryBytes)} of memory");
        return short_.Count == 0
            ? new AppCapacityCheck($"{needs}; {has}.", null)
            : new AppCapacityCheck($"{needs}; {has}.",
                $"Not enough room in the cluster: {needs}, {has}. Short by {string.Join(" and ", short_)}: add nodes (or larger ones) to the " +
                "workspace's node pools, or remove an app.");
    }

    private static string Cpu(double cores) => cores.ToString("0.##", CultureInfo.InvariantCulture) + " CPU";

    private static string Memory(double bytes) => (bytes / (1L << 30)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB";
}
