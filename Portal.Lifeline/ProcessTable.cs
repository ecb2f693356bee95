using System.Globalization;

namespace Cogrion.Lifeline;

/// <summary>One process as Linux's <c>/proc/&lt;pid&gt;/stat</c> shows it: enough to tell who it belongs to and whether it is the one recorded.</summary>
/// <param name="StartTicks">
/// When it started, in clock ticks since boot. With the pid it names one process for the life of the
/// machine: a pid that was recycled belongs to a process that started later.
/// </param>
public sealed record ProcessEntry(int ProcessId, int ParentId, int ProcessGroup, int Session, long StartTicks, char State)
{
    /// <summary>A zombie has exited and only waits to be reaped: it runs nothing and holds nothing.</summary>
    public bool IsRunning => State is not ('Z' or 'X' or 'x');
}

/// <summary>
/// Reads Linux's process table (<c>/proc</c>). Shared by the lifeline (which ends what is left of its
/// group) and the Portal (which records its children and ends the leftovers of a worker that died),
/// so both read a process the same way.
/// </summary>
public static class ProcessTable
{
    private const string Proc = "/proc";

    /// <summary>The process with this pid, or null when there is none (or only a zombie).</summary>
    public static ProcessEntry? Find(int processId)
    {
        var entry = Read(processId);
        return entry is { IsRunning: true } ? entry : null;
    }

    /// <summary>Every running process whose process group is <paramref name="group"/>.</summary>
    public static IReadOnlyList<ProcessEntry> GroupMembers(int group) =>
        All().Where(p => p.ProcessGroup == group && p.IsRunning).ToList();

    /// <summary>
    /// What makes a pid meaningful: the kernel's boot (a reboot restarts pids and ticks) and the pid
    /// namespace (two containers on one machine number their processes separately). A process recorded
    /// under another system cannot be looked up from here.
    /// </summary>
    public static string ThisSystem { get; } = ReadSystem();

    public static IEnumerable<ProcessEntry> All()
    {
        foreach (var directory in Directory.EnumerateDirectories(Proc))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (Read(pid) is { } entry) yield return entry;
        }
    }

    private static ProcessEntry? Read(int processId)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"{Proc}/{processId}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // Gone between listing and reading, or never there.
        }
        // "pid (comm) state ppid pgrp session ...": the command name may hold spaces and parentheses,
        // so the fields are counted from the last ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0) return null;
        var fields = stat[(close + 2)..].Split(' ');
        if (fields.Length < 20) return null;
        return new ProcessEntry(
            processId,
            int.Parse(fields[1], CultureInfo.InvariantCulture),
            int.Parse(fields[2], CultureInfo.InvariantCulture),
            int.Parse(fields[3], CultureInfo.InvariantCulture),
            long.Parse(fields[19], CultureInfo.InvariantCulture),
            fields[0][0]);
    }

    private static string ReadSystem()
    {
        try
        {
            var boot = File.ReadAllText($"{Proc}/sys/kernel/random/boot_id").Trim();
            var pidNamespace = new FileInfo($"{Proc}/self/ns/pid").LinkTarget ?? "pid:[?]";
            return $"{boot}/{pidNamespace}";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
