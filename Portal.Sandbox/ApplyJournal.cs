using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// Not OpenTofu: the sandbox's record of every apply of one state, kept next to it in
/// <c>&lt;state&gt;.applies.jsonl</c> (one JSON object per line), so that tests and <c>bench/crash.sh</c> can
/// check that no two applies of a workspace ever overlapped. An apply writes <c>start</c> once it holds
/// the lock, before it changes anything, and <c>end</c> after its last state write. A start that finds
/// another apply started, not ended, and still running records it in <c>concurrent_with</c>: that is a
/// double apply, which the state lock exists to prevent.
/// </summary>
public sealed class ApplyJournal
{
    public const string Suffix = ".applies.jsonl";

    private readonly string path;
    private readonly string id = Guid.NewGuid().ToString("n");

    private ApplyJournal(string path) => this.path = path;

    public static ApplyJournal Start(string statePath)
    {
        var journal = new ApplyJournal(statePath + Suffix);
        var self = Process.GetCurrentProcess();
        var concurrent = journal.Running().Where(p => p != Environment.ProcessId).ToList();
        journal.Append(new JsonObject
        {
            ["event"] = "start",
            ["apply"] = journal.id,
            ["pid"] = Environment.ProcessId,
            ["process_started"] = self.StartTime.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            ["at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["concurrent_with"] = new JsonArray(concurrent.Select(p => (JsonNode)p).ToArray()),
        });
        return journal;
    }

    public void End(int exitCode) => Append(new JsonObject
    {
        ["event"] = "end",
        ["apply"] = id,
        ["pid"] = Environment.ProcessId,
        ["at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        ["exit_code"] = exitCode,
    });

    /// <summary>The pids of applies that started, have not ended, and whose process is still the one that started them.</summary>
    private IEnumerable<int> Running()
    {
        if (!File.Exists(path)) yield break;
        var open = new Dictionary<string, (int Pid, string Started)>();
        foreach (var line in File.ReadLines(path))
        {
            if (JsonNode.Parse(line) is not JsonObject entry) continue;
            var apply = entry["apply"]?.GetValue<string>() ?? "";
            if (entry["event"]?.GetValue<string>() == "start")
                open[apply] = (entry["pid"]!.GetValue<int>(), entry["process_started"]?.GetValue<string>() ?? "");
            else
                open.Remove(apply);
        }
        foreach (var (pid, started) in open.Values)
            if (IsRunning(pid, started)) yield return pid;
    }

    private static bool IsRunning(int pid, string started)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && process.StartTime.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) == started;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private void Append(JsonObject entry)
    {
        // One short line per write, appended: concurrent appliers' lines do not interleave.
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        using var writer = new StreamWriter(stream);
        writer.Write(entry.ToJsonString() + "\n");
    }
}
