using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// Runs <c>tofu</c> as a child process with <see cref="Process"/>, streaming stdout and stderr line by line.
/// The child gets a scrubbed environment: the Portal's own secrets (its database connection string,
/// its Keycloak client secret) live in its environment and must not reach a process that runs
/// third-party providers.
/// </summary>
public sealed class TofuProcessCli(IOptions<OpenTofuOptions> options, TimeProvider time, ILogger<TofuProcessCli> logger) : ITofuCli
{
    /// <summary>
    /// What the child inherits: enough to find programs, certificates and proxies, plus the ambient
    /// cloud identity of the Portal itself (AWS_*, ALIBABA_CLOUD_*), which only serves to assume the
    /// tenant's role. Everything else (connection strings, client secrets) stays behind.
    /// </summary>
    private static readonly string[] InheritedNames = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", "TF_PLUGIN_CACHE_DIR", "TF_CLI_CONFIG_FILE"];
    private static readonly string[] InheritedPrefixes = ["AWS_", "ALIBABA_CLOUD_", "ALICLOUD_", "TOFU_SANDBOX_"];

    public async IAsyncEnumerable<TofuOutput> RunAsync(TofuInvocation invocation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var process = new Process { StartInfo = StartInfo(invocation) };
        try
        {
            if (!process.Start()) throw new TofuNotStartedException($"'{invocation.Executable}' did not start.");
        }
        catch (Win32Exception ex)
        {
            throw new TofuNotStartedException($"'{invocation.Executable}' cannot be started: {ex.Message}.", ex);
        }
        process.StandardInput.Close(); // -input=false, and nothing to say: a prompt must fail, not hang.

        var lines = Channel.CreateUnbounded<TofuOutput>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = Task.WhenAll(PumpAsync(process.StandardOutput, false, lines.Writer), PumpAsync(process.StandardError, true, lines.Writer))
            .ContinueWith(_ => lines.Writer.TryComplete(), TaskScheduler.Default);

        Task<bool>? stop = null;
        using var exited = new CancellationTokenSource();
        try
        {
            // Cancellation starts the stop sequence and the stream goes on: the interrupt output matters.
            await using (cancellationToken.Register(() => stop = StopAsync(process, exited.Token)))
            {
                await foreach (var line in lines.Reader.ReadAllAsync(CancellationToken.None))
                    yield return line;

                await pumps;
                await process.WaitForExitAsync(CancellationToken.None);
                await exited.CancelAsync();
            }
            var killed = stop is not null && await stop;
            yield return new TofuExited(process.ExitCode, stop is not null, killed);
        }
        finally
        {
            // A consumer that stops reading early must not leave tofu running, holding the state lock.
            if (!process.HasExited)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
        }
    }

    /// <summary>SIGINT first, as a person pressing Ctrl-C: OpenTofu then finishes in-flight calls, writes state and releases the lock.</summary>
    private async Task<bool> StopAsync(Process process, CancellationToken exited)
    {
        try
        {
            logger.LogInformation("Interrupting tofu process {ProcessId}", process.Id);
            if (!Interrupt(process.Id)) logger.LogWarning("Could not send SIGINT to tofu process {ProcessId}; killing it", process.Id);
            else await Task.Delay(options.Value.CancelGracePeriod, time, exited);
        }
        catch (OperationCanceledException)
        {
            return false; // It stopped within the grace period.
        }
        catch (InvalidOperationException)
        {
            return false; // Already gone.
        }
        try
        {
            if (process.HasExited) return false;
            logger.LogWarning("tofu process {ProcessId} did not stop within {GracePeriod}; killing it and its children", process.Id, options.Value.CancelGracePeriod);
            process.Kill(entireProcessTree: true);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool Interrupt(int processId) =>
        !OperatingSystem.IsWindows() && Posix.kill(processId, Posix.SIGINT) == 0;

    private static async Task PumpAsync(StreamReader reader, bool fromStandardError, ChannelWriter<TofuOutput> writer)
    {
        while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
            writer.TryWrite(new TofuOutputLine(line, fromStandardError));
    }

    private static ProcessStartInfo StartInfo(TofuInvocation invocation)
    {
        var start = new ProcessStartInfo(invocation.Executable)
        {
            WorkingDirectory = invocation.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in invocation.Arguments) start.ArgumentList.Add(argument);

        start.Environment.Clear();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (InheritedNames.Contains(name, StringComparer.Ordinal) || InheritedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
                start.Environment[name] = (string?)entry.Value;
        }
        // Automation mode: no colour codes, no "run tofu apply next" hints, no update checks phoning home.
        start.Environment["TF_IN_AUTOMATION"] = "1";
        start.Environment["TF_INPUT"] = "0";
        start.Environment["CHECKPOINT_DISABLE"] = "1";
        foreach (var (name, value) in invocation.Environment) start.Environment[name] = value;
        return start;
    }

    /// <summary>.NET can kill a process but not interrupt it; libc's kill(2) can.</summary>
    /// <remarks>DllImport rather than LibraryImport: the signature is blittable, and the Portal needs no unsafe code for it.</remarks>
    private static class Posix
    {
        public const int SIGINT = 2;

        [DllImport("libc", SetLastError = true)]
        public static extern int kill(int pid, int sig);
    }
}
