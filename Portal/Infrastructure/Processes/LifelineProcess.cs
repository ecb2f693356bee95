using System.ComponentModel;
using System.Diagnostics;
using Cogrion.Lifeline;

namespace Cogrion.Portal.Infrastructure.Processes;

/// <summary>
/// Starts child processes that cannot outlive the Portal (docs/adr/0060-children-die-with-the-portal.md):
/// each runs under <c>cogrion-lifeline</c>, in a process group of its own, tied to this process by a
/// pipe only this process holds. If the Portal dies, however it dies, the lifeline reads end-of-file,
/// interrupts the group, and kills what is left of it after the grace period. Every process the Portal
/// starts for a run or for the sandbox goes through here.
/// </summary>
public sealed class LifelineLauncher(ILogger<LifelineLauncher> logger)
{
    /// <summary>The lifeline executable, built by Portal.Lifeline and shipped next to the Portal's binary.</summary>
    public static string Executable { get; } = Path.Combine(AppContext.BaseDirectory, "cogrion-lifeline");

    /// <summary>How long a start may take before the lifeline says whether its command runs.</summary>
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Starts <paramref name="command"/> (its file name, arguments, working directory and environment are
    /// taken as given; its standard input is closed, its output comes through <see cref="LifelineProcess"/>).
    /// </summary>
    /// <param name="grace">
    /// After the Portal died: how long the command has, after SIGINT, before it is killed. Give it what
    /// it needs to stop cleanly (OpenTofu writes its state and releases the lock).
    /// </param>
    /// <exception cref="ChildProcessNotStartedException">The command (or the lifeline) could not be started.</exception>
    public async Task<LifelineProcess> StartAsync(ProcessStartInfo command, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("Child processes are tied to the Portal with Linux process groups and /proc (docs/adr/0060); run the Portal on Linux.");

        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = command.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true, // the lifeline: never written, closed only by our death or our Dispose
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = command.StandardOutputEncoding,
            StandardErrorEncoding = command.StandardErrorEncoding,
        };
        start.ArgumentList.Add("--grace");
        start.ArgumentList.Add(grace.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(command.FileName);
        foreach (var argument in command.ArgumentList) start.ArgumentList.Add(argument);
        start.Environment.Clear();
        foreach (var (name, value) in command.Environment) start.Environment[name] = value;
        // The lifeline is a .NET program: where the runtime lives is no secret, and it cannot start without it.
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } dotnetRoot && !start.Environment.ContainsKey("DOTNET_ROOT"))
            start.Environment["DOTNET_ROOT"] = dotnetRoot;

        var process = new Process { StartInfo = start };
        try
        {
            if (!process.Start()) throw new ChildProcessNotStartedException($"'{Executable}' did not start.");
        }
        catch (Win32Exception ex)
        {
            process.Dispose();
            throw new ChildProcessNotStartedException($"The lifeline '{Executable}' cannot be started: {ex.Message}. It ships next to the Portal's binary; reinstall the Portal.", ex);
        }
        // Read at once, while the lifeline surely runs: its start time is what tells it from a later process with its pid.
        var identity = ProcessIdentity.Of(process.Id) ?? new ProcessIdentity(ProcessTable.ThisSystem, Environment.MachineName, process.Id, 0);

        string? first;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(HandshakeTimeout);
            first = await process.StandardOutput.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            KillGroup(process.Id);
            process.Dispose();
            throw;
        }

        if (first is not null && first.StartsWith(Handshake.StartedPrefix, StringComparison.Ordinal)
            && int.TryParse(first.AsSpan(Handshake.StartedPrefix.Length), out var childId))
        {
            logger.LogDebug("Started {Command} (pid {ChildId}) under lifeline {LifelineId}", command.FileName, childId, process.Id);
            return new LifelineProcess(process, identity, childId);
        }

        await process.WaitForExitAsync(CancellationToken.None);
        var reason = first is not null && first.StartsWith(Handshake.FailedPrefix, StringComparison.Ordinal)
            ? first[Handshake.FailedPrefix.Length..]
            : (await process.StandardError.ReadToEndAsync(CancellationToken.None)).Trim() is { Length: > 0 } said ? said : $"the lifeline exited with code {process.ExitCode}";
        process.Dispose();
        throw new ChildProcessNotStartedException($"'{command.FileName}' cannot be started: {reason.TrimEnd('.')}.");
    }

    internal static bool KillGroup(int group) => Posix.kill(-group, Posix.SIGKILL) == 0;
}

/// <summary>
/// A command running under its lifeline. Its pid (<see cref="Identity"/>) is the lifeline's, which is
/// also the id of the process group the command and everything it starts belong to: signals go to
/// the group. Disposing it kills the group if it still runs.
/// </summary>
public sealed class LifelineProcess : IDisposable
{
    private readonly Process lifeline;

    internal LifelineProcess(Process lifeline, ProcessIdentity identity, int childProcessId)
    {
        this.lifeline = lifeline;
        Identity = identity;
        ChildProcessId = childProcessId;
    }

    /// <summary>What to record so that a later Portal can find this group again (and only this one).</summary>
    public ProcessIdentity Identity { get; }

    /// <summary>The command's own pid (inside the group).</summary>
    public int ChildProcessId { get; }

    /// <summary>The command's standard output, from its first line (the lifeline's own line is already read).</summary>
    public StreamReader StandardOutput => lifeline.StandardOutput;

    public StreamReader StandardError => lifeline.StandardError;

    public bool HasExited => lifeline.HasExited;

    /// <summary>The command's exit code (the lifeline exits with it); 128 + n when a signal n ended it.</summary>
    public int ExitCode => lifeline.ExitCode;

    public Task WaitForExitAsync(CancellationToken cancellationToken) => lifeline.WaitForExitAsync(cancellationToken);

    /// <summary>SIGINT to the group, as Ctrl-C would (the lifeline itself ignores it). False when the group is gone.</summary>
    public bool Interrupt() => Signal(Posix.SIGINT);

    /// <summary>SIGTERM to the group: for programs that stop on it rather than on an interrupt.</summary>
    public bool Terminate() => Signal(Posix.SIGTERM);

    /// <summary>SIGKILL to the whole group, lifeline included.</summary>
    public void Kill()
    {
        if (!lifeline.HasExited) LifelineLauncher.KillGroup(Identity.ProcessId);
    }

    private bool Signal(int signal) => !lifeline.HasExited && Posix.kill(-Identity.ProcessId, signal) == 0;

    public void Dispose()
    {
        Kill();
        lifeline.Dispose(); // closes our end of the lifeline too
    }
}

public sealed class ChildProcessNotStartedException(string message, Exception? inner = null) : Exception(message, inner);
