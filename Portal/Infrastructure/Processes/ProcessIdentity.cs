using Cogrion.Lifeline;

namespace Cogrion.Portal.Infrastructure.Processes;

/// <summary>
/// One process, named so that it can be found again after the process that started it died, and never
/// confused with a later process that got the same pid: the system it runs on (boot and pid namespace),
/// its pid, and its start time in clock ticks since boot. For a <see cref="LifelineProcess"/> it is the
/// lifeline's, whose pid is also the id of the process group its command runs in.
/// </summary>
/// <param name="Host">For people: the machine's name. <see cref="System"/> is what decides.</param>
public sealed record ProcessIdentity(string System, string Host, int ProcessId, long StartTicks)
{
    /// <summary>The running process with this pid, as this system sees it now (its identity only if it is still the same process).</summary>
    public static ProcessIdentity? Of(int processId) => ProcessTable.Find(processId) is { } entry
        ? new ProcessIdentity(ProcessTable.ThisSystem, Environment.MachineName, processId, entry.StartTicks)
        : null;

    /// <summary>Whether this process can be looked up from here: same kernel boot, same pid namespace.</summary>
    public bool IsOnThisSystem => System == ProcessTable.ThisSystem;

    public override string ToString() => $"pid {ProcessId} on {Host}";
}
