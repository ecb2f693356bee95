using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Cogrion.Lifeline;

/// <summary>
/// <c>cogrion-lifeline [--grace SECONDS] [--signal INT|TERM] -- COMMAND [ARGS...]</c>
/// <para>
/// Runs COMMAND in a new session and process group (this process leads it, so the group's id is this
/// process's pid) and ties it to the process that started the lifeline: that parent holds the write
/// end of the lifeline's standard input and never writes to it. When the parent dies, however it dies
/// (SIGKILL, OOM), the kernel closes that end and the lifeline reads end-of-file; it then sends the
/// group SIGINT (as Ctrl-C would: OpenTofu finishes in-flight calls, saves state and releases its lock),
/// waits up to the grace period, and kills whatever of the group is left. When COMMAND exits by
/// itself, whatever it left behind in the group is killed and the lifeline exits with its code.
/// </para>
/// <para>
/// COMMAND's standard output and error pass through the lifeline, which keeps reading them after the
/// parent is gone: a child writing to a pipe nobody reads would otherwise die of SIGPIPE (OpenTofu, a
/// Go program, does) in the middle of saving its state. The first line on standard output is the
/// lifeline's own (<see cref="Handshake"/>). Why this shape: docs/adr/0060-children-die-with-the-portal.md.
/// </para>
/// </summary>
public static class Program
{
    private const string Usage = "usage: cogrion-lifeline [--grace SECONDS] [--signal INT|TERM] -- COMMAND [ARGS...]";

    public static int Main(string[] args)
    {
        if (!LifelineArguments.TryParse(args, out var arguments, out var problem))
        {
            Console.Error.WriteLine($"cogrion-lifeline: {problem}\n{Usage}");
            return Handshake.UsageExitCode;
        }
        if (Posix.setsid() < 0)
        {
            Console.Error.WriteLine($"cogrion-lifeline: setsid failed (errno {Marshal.GetLastPInvokeError()}): it must be started as a new " +
                $"process, not exec'd by a group leader.");
            return Handshake.UsageExitCode;
        }
        var group = Environment.ProcessId;

        // A shell without job control starts background commands with SIGINT and SIGQUIT ignored, and
        // an ignored signal is inherited across exec: a Portal started with `&` by a script would start
        // an OpenTofu that cannot be interrupted, so a cancel or a dying Portal could only kill it. The
        // child gets the default dispositions whatever ours were when we were started.
        Posix.signal(Posix.SIGINT, Posix.SIG_DFL);
        Posix.signal(Posix.SIGQUIT, Posix.SIG_DFL);

        // The stop signal is sent to the whole group, this process included: it must not end the
        // lifeline, which still has to drain the child's output and end what is left of the group.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => context.Cancel = true);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, context => context.Cancel = true);
        using var hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => context.Cancel = true);

        using var standardOutput = Console.OpenStandardOutput();
        using var standardError = Console.OpenStandardError();
        var output = new Relay(standardOutput);
        var error = new Relay(standardError);

        using var child = new Process { StartInfo = StartInfo(arguments) };
        try
        {
            child.Start();
        }
        catch (Win32Exception ex)
        {
            output.WriteLine($"{Handshake.FailedPrefix}{ex.Message}");
            return Handshake.NotStartedExitCode;
        }
        child.StandardInput.Close(); // The child reads nothing: a prompt must fail, not hang.
        output.WriteLine($"{Handshake.StartedPrefix}{child.Id}");

        var pumps = Task.WhenAll(output.PumpAsync(child.StandardOutput.BaseStream), error.PumpAsync(child.StandardError.BaseStream));
        var exited = child.WaitForExitAsync();
        if (Task.WaitAny(exited, ParentGone()) == 1)
        {
            Posix.kill(-group, arguments.Signal);
            exited.Wait(arguments.Grace);
        }
        // Whatever is left of the group but this process: the child if it outlived the grace period,
        // and anything it started that outlived it.
        KillGroupExceptSelf(group);
        exited.Wait();
        // A process that left the group could still hold the pipes open: do not wait for it forever.
        pumps.Wait(TimeSpan.FromSeconds(5));
        return child.ExitCode;
    }

    private static ProcessStartInfo StartInfo(LifelineArguments arguments)
    {
        var start = new ProcessStartInfo(arguments.Command)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments.CommandArguments) start.ArgumentList.Add(argument);
        return start;
    }

    /// <summary>Completes when standard input ends: the parent, which holds its write end, is gone.</summary>
    private static Task ParentGone()
    {
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // A thread of its own: the read blocks for the child's whole life.
        new Thread(() =>
        {
            try
            {
                using var input = Console.OpenStandardInput();
                var buffer = new byte[64];
                while (input.Read(buffer) > 0)
                {
                    // The parent never writes; anything it does write means nothing.
                }
            }
            catch (IOException)
            {
                // An error reading the lifeline is as good as its end.
            }
            gone.TrySetResult();
        })
        { IsBackground = true, Name = "lifeline" }.Start();
        return gone.Task;
    }

    private static void KillGroupExceptSelf(int group)
    {
        // A process may start another while we kill: go round until the group is empty.
        for (var round = 0; round < 10; round++)
        {
            var others = ProcessTable.GroupMembers(group).Where(p => p.ProcessId != group).ToList();
            if (others.Count == 0) return;
            foreach (var other in others) Posix.kill(other.ProcessId, Posix.SIGKILL);
            Thread.Sleep(20);
        }
    }

    /// <summary>Copies one of the child's streams to ours; once the parent stops reading, keeps draining so the child never blocks or dies on a full
    /// or broken pipe.</summary>
    private sealed class Relay(Stream destination)
    {
        private readonly Lock gate = new();
        private bool broken;

        public void WriteLine(string line) => Write(Encoding.UTF8.GetBytes(line + "\n"));

        public async Task PumpAsync(Stream source)
        {
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await source.ReadAsync(buffer)) > 0)
                Write(buffer.AsSpan(0, read));
        }

        private void Write(ReadOnlySpan<byte> bytes)
        {
            lock (gate)
            {
                if (broken) return;
                try
                {
                    destination.Write(bytes);
                    destination.Flush();
                }
                catch (IOException)
                {
                    broken = true; // The parent is gone: what the child still says has no reader.
                }
            }
        }
    }
}

/// <summary>What the lifeline says first on its standard output, so the parent knows the child started (and its pid) before reading the child's own
/// output.</summary>
public static class Handshake
{
    public const string StartedPrefix = "cogrion-lifeline: started ";
    public const string FailedPrefix = "cogrion-lifeline: cannot start: ";

    /// <summary>The command could not be started (not found, not executable), as a shell says it.</summary>
    public const int NotStartedExitCode = 127;

    /// <summary>The lifeline itself was called wrongly.</summary>
    public const int UsageExitCode = 125;
}

/// <summary>The lifeline's command line.</summary>
public sealed record LifelineArguments(TimeSpan Grace, int Signal, string Command, IReadOnlyList<string> CommandArguments)
{
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(10);

    public static bool TryParse(string[] args, out LifelineArguments arguments, out string problem)
    {
        arguments = null!;
        var grace = DefaultGrace;
        var signal = Posix.SIGINT;
        var index = 0;
        for (; index < args.Length && args[index] != "--"; index++)
        {
            switch (args[index])
            {
                case "--grace" when index + 1 < args.Length
                    && double.TryParse(args[index + 1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture,
                        out var seconds)
                    && seconds is >= 0 and <= 86_400:
                    grace = TimeSpan.FromSeconds(seconds);
                    index++;
                    break;
                case "--signal" when index + 1 < args.Length && args[index + 1] is "INT" or "TERM":
                    signal = args[index + 1] == "INT" ? Posix.SIGINT : Posix.SIGTERM;
                    index++;
                    break;
                default:
                    problem = $"unexpected argument '{args[index]}'";
                    return false;
            }
        }
        if (index + 1 >= args.Length)
        {
            problem = "no command after --";
            return false;
        }
        arguments = new LifelineArguments(grace, signal, args[index + 1], args[(index + 2)..]);
        problem = "";
        return true;
    }
}

/// <summary>What .NET cannot do: start a session, signal a process group, reset a signal inherited as ignored.</summary>
/// <remarks>DllImport rather than LibraryImport: blittable signatures, and no unsafe code needed.</remarks>
public static class Posix
{
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    public static extern int setsid();

    public static readonly IntPtr SIG_DFL = IntPtr.Zero;

    /// <summary>Sets a signal's disposition (here only back to the default).</summary>
    [DllImport("libc", SetLastError = true)]
    public static extern IntPtr signal(int sig, IntPtr handler);

    /// <summary>A negative pid signals the process group of that id.</summary>
    [DllImport("libc", SetLastError = true)]
    public static extern int kill(int pid, int sig);
}
