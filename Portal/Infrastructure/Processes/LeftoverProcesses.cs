using Cogrion.Lifeline;

namespace Cogrion.Portal.Infrastructure.Processes;

/// <summary>What became of a recorded process group when it was looked for.</summary>
public enum LeftoverOutcome
{
    /// <summary>Nothing of it runs any more.</summary>
    Gone,

    /// <summary>It ran, and stopped within the grace period after SIGINT.</summary>
    Interrupted,

    /// <summary>It ran, ignored or outlived SIGINT, and was killed.</summary>
    Killed,

    /// <summary>It was recorded on another system (machine, boot or container): it cannot be looked at from here.</summary>
    Elsewhere,
}

/// <summary>
/// Finds and ends what is left of a process group recorded by a worker that died: the last resort
/// behind the lifeline (which ends the group by itself unless it was killed first). Only processes
/// that are provably the recorded ones are signalled: the leader while its start time matches, or,
/// once the leader is gone, members of its session that started no earlier than it did (Linux does
/// not hand out a pid that is still a group's id, so such members can only be the group's own).
/// </summary>
public sealed class LeftoverProcesses(TimeProvider time, ILogger<LeftoverProcesses> logger)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>The processes of the recorded group that still run (empty when none, or when it is <see cref="LeftoverOutcome.Elsewhere"/>).</summary>
    public static IReadOnlyList<ProcessEntry> Members(ProcessIdentity group)
    {
        if (!group.IsOnThisSystem || group.StartTicks == 0) return [];
        var leader = ProcessTable.Find(group.ProcessId);
        if (leader is not null && leader.StartTicks != group.StartTicks) return []; // the pid was recycled: the group is long gone
        return ProcessTable.GroupMembers(group.ProcessId)
            .Where(p => p.ProcessId == group.ProcessId || (p.Session == group.ProcessId && p.StartTicks >= group.StartTicks))
            .ToList();
    }

    /// <summary>Whether anything of the group may still run: yes when it runs here, and when it was recorded elsewhere (nobody here can tell).</summary>
    public static bool MayBeAlive(ProcessIdentity group) => !group.IsOnThisSystem || Members(group).Count > 0;

    /// <summary>Interrupts what runs of the group, waits up to <paramref name="grace"/> for it to stop, then kills the rest.</summary>
    public async Task<LeftoverOutcome> EndAsync(ProcessIdentity group, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (!group.IsOnThisSystem) return LeftoverOutcome.Elsewhere;
        var members = Members(group);
        if (members.Count == 0) return LeftoverOutcome.Gone;

        logger.LogWarning("Found {Count} leftover process(es) of group {Group}; interrupting them", members.Count, group);
        Signal(members, Posix.SIGINT);
        var deadline = time.GetUtcNow() + grace;
        while (time.GetUtcNow() < deadline)
        {
            await Task.Delay(Poll, time, cancellationToken);
            if (Members(group).Count == 0) return LeftoverOutcome.Interrupted;
        }
        for (var round = 0; round < 50 && Members(group) is { Count: > 0 } rest; round++)
        {
            if (round == 0) logger.LogWarning("Leftover processes of group {Group} outlived the interrupt by {Grace}; killing them", group, grace);
            Signal(rest, Posix.SIGKILL);
            await Task.Delay(Poll, time, cancellationToken);
        }
        return LeftoverOutcome.Killed;
    }

    private static void Signal(IEnumerable<ProcessEntry> members, int signal)
    {
        foreach (var member in members) Posix.kill(member.ProcessId, signal);
    }
}
