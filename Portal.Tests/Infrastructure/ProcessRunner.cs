using System.Diagnostics;
using System.Text;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>Runs a command to completion and returns its exit code and output.</summary>
public static class ProcessRunner
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, IDictionary<string, string?>? environment = null,
        string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (environment is not null)
            foreach (var (key, value) in environment) start.Environment[key] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in time.");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>
/// A long-running child process (the Portal, the dev identity provider) whose output is kept for
/// assertions and diagnostics, killed when disposed, and with this test host however it ends (<see cref="StartTiedAsync"/>, and the
/// standard input it holds for children that watch theirs).
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    // Every child still running. When the test host exits they are killed synchronously: an
    // asynchronous wait during process exit may never finish, and the children would outlive the run.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, ChildProcess> Running = new();

    static ChildProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAllRunning();

    /// <summary>
    /// Kills every child still running. Also called first by the database's exit cleanup: children hold its connections.
    /// One SIGKILL each, to the program itself (under a lifeline, the lifeline then ends the rest of its group and exits). Not
    /// Kill(entireProcessTree): that stops (SIGSTOP) each process before it scans /proc for its children, and a host killed
    /// by the test runner during that scan leaves the child stopped for good, an orphan that no end of file can wake.
    /// </summary>
    public static void KillAllRunning()
    {
        foreach (var child in Running.Values) child.KillProgram();
    }

    /// <summary>
    /// SIGKILL to the program, at once. Under a lifeline, to the lifeline's child, and only while the lifeline runs (it outlives
    /// its child only for the moment it takes to end the child's group, so the pid cannot have been reused by then); the
    /// lifeline then ends what is left of the group and exits.
    /// </summary>
    private void KillProgram()
    {
        try
        {
            if (process.HasExited) return;
            if (startedId == Id)
            {
                process.Kill();
                return;
            }
            using var program = Process.GetProcessById(Id);
            program.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly object gate = new();
    private readonly List<(string Marker, TaskCompletionSource Seen)> waiters = [];

    public string Name { get; }

    private ChildProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
    }

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, IDictionary<string, string?> environment,
        string workingDirectory)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // A pipe this process holds open and never writes: when the test host ends, however it ends (killed by the runner
            // or a CI timeout, where ProcessExit never runs), the kernel closes it, and a child that watches its standard
            // input (the dev identity provider) ends too instead of outliving the run.
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        if (!process.Start()) throw new InvalidOperationException($"Could not start {name}.");
        Running[process.Id] = child;
        child.startedId = process.Id;
        child.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> under cogrion-lifeline (docs/adr/0060-children-die-with-the-portal.md), for a child that
    /// cannot notice by itself that this test host is gone (the Portal, nginx): when the host ends, however it ends (killed by the
    /// runner or a CI timeout, where no exit handler runs), the lifeline reads the end of the standard input the host held and
    /// ends the child's whole process group. <see cref="Id"/> is the child's own pid (a failover test kills that process alone);
    /// disposing or <see cref="Kill"/> ends the lifeline and the child together.
    /// </summary>
    public static async Task<ChildProcess> StartTiedAsync(string name, string fileName, IEnumerable<string> arguments,
        IDictionary<string, string?> environment, string workingDirectory)
    {
        var child = Start(name, Path.Combine(AppContext.BaseDirectory, "cogrion-lifeline"), ["--grace", "5", "--", fileName, .. arguments],
            environment, workingDirectory);
        try
        {
            const string started = Cogrion.Lifeline.Handshake.StartedPrefix;
            await child.WaitForOutputAsync(started, TimeSpan.FromSeconds(30));
            var handshake = child.Output.Split('\n').First(line => line.StartsWith(started, StringComparison.Ordinal));
            child.Id = int.Parse(handshake[started.Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            return child;
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
    }

    /// <summary>The process this class started (the lifeline, for <see cref="StartTiedAsync"/>): the key of <see cref="Running"/>.</summary>
    private int startedId;

    /// <summary>The program's own process id (under a lifeline, the lifeline's child).</summary>
    public int Id { get; private set; }
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;

    /// <summary>Waits for the process to end by itself; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public string Output
    {
        get { lock (gate) return output.ToString(); }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (gate)
        {
            output.AppendLine(line);
            foreach (var waiter in waiters.Where(w => line.Contains(w.Marker, StringComparison.Ordinal)).ToList())
            {
                waiter.Seen.TrySetResult();
                waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Waits until the process prints a line containing <paramref name="marker"/>.</summary>
    public async Task WaitForOutputAsync(string marker, TimeSpan timeout)
    {
        TaskCompletionSource seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            if (output.ToString().Contains(marker, StringComparison.Ordinal)) return;
            waiters.Add((marker, seen));
        }
        var exited = process.WaitForExitAsync();
        var finished = await Task.WhenAny(seen.Task, exited, Task.Delay(timeout));
        if (finished != seen.Task)
            throw new InvalidOperationException($"{Name} did not print '{marker}' " +
                $"({(process.HasExited ? $"exited with {process.ExitCode}" : "timed out")}). Output:\n{Output}");
    }

    /// <summary>Kills the process at once (SIGKILL), as a crash would: for tests of what survives a dead replica.</summary>
    public void Kill() => KillProgram();

    private int disposed;

    public async ValueTask DisposeAsync()
    {
        // Tests may stop a child early and dispose it again at the end; only the first call acts.
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        KillProgram();
        try
        {
            await process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        // Forgotten only once it is gone: a kill that failed leaves it to the exit cleanup.
        Running.TryRemove(startedId, out _);
        process.Dispose();
    }
}
