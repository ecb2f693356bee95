using Cogrion.Portal.Infrastructure.Processes;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>One start of the <c>tofu</c> executable (or the sandbox simulator, which takes the same command lines).</summary>
public sealed record TofuInvocation(string Executable, IReadOnlyList<string> Arguments, string WorkingDirectory, IReadOnlyDictionary<string,
    string> Environment);

/// <summary>What comes out of a running <c>tofu</c>: its lines as they are printed, then its end.</summary>
public abstract record TofuOutput;

/// <summary>
/// The first item of every stream: the process runs. <see cref="Process"/> names its process group
/// so that it can be found again if the Portal dies (docs/adr/0060); <see cref="ProcessId"/> is tofu's own pid.
/// </summary>
public sealed record TofuStarted(ProcessIdentity Process, int ProcessId) : TofuOutput;

public sealed record TofuOutputLine(string Text, bool FromStandardError) : TofuOutput;

/// <summary>The last item of every stream. <see cref="Interrupted"/>: it was sent SIGINT; <see cref="Killed"/>: it outlived the grace
/// period.</summary>
public sealed record TofuExited(int ExitCode, bool Interrupted, bool Killed) : TofuOutput;

/// <summary>
/// The process boundary, and the only one: the runner's code is the same for every provider up to
/// this call, and the sandbox differs only in the executable it names.
/// </summary>
public interface ITofuCli
{
    /// <summary>
    /// Starts the process and yields one <see cref="TofuStarted"/>, then its output lines as they arrive, ending with one
    /// <see cref="TofuExited"/>. Cancelling does not end the stream: it interrupts the process the way
    /// Ctrl-C would, lets it wind down (its last lines still come through), kills it after the grace
    /// period, and then yields the exit. Throws <see cref="TofuNotStartedException"/> if the executable cannot be started.
    /// </summary>
    IAsyncEnumerable<TofuOutput> RunAsync(TofuInvocation invocation, CancellationToken cancellationToken);
}

public sealed class TofuNotStartedException(string message, Exception? inner = null) : Exception(message, inner);
