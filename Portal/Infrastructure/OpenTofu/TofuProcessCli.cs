using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Cogrion.Portal.Infrastructure.Processes;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// Runs <c>tofu</c> as a child process, streaming stdout and stderr line by line. The child runs under
/// a lifeline (docs/adr/0060): in a process group of its own that cannot outlive the Portal. It gets a
/// scrubbed environment: the Portal's own secrets (its database connection string, its Keycloak client
/// secret) live in its environment and must not reach a process that runs third-party providers.
/// </summary>
public sealed class TofuProcessCli(LifelineLauncher lifelines, IOptions<OpenTofuOptions> options, TimeProvider time, ILogger<TofuProcessCli> logger)
    : ITofuCli
{
    /// <summary>
    /// What the child inherits: enough to find programs, certificates and proxies, plus the ambient
    /// cloud identity of the Portal itself (AWS_*, ALIBABA_CLOUD_*), which only serves to assume the
    /// tenant's role. Everything else (connection strings, client secrets) stays behind.
    /// </summary>
    private static readonly string[] InheritedNames = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY",
        "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", "TF_PLUGIN_CACHE_DIR", "TF_CLI_CONFIG_FILE"];
    private static readonly string[] InheritedPrefixes = ["AWS_", "ALIBABA_CLOUD_", "ALICLOUD_", "TOFU_SANDBOX_"];

    public async IAsyncEnumerable<TofuOutput> RunAsync(TofuInvocation invocation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        LifelineProcess process;
        try
        {
            // If the Portal dies mid-apply, the lifeline interrupts tofu (it saves state and releases the
            // lock) and kills it after the same grace period a cancel gives it.
            process = await lifelines.StartAsync(StartInfo(invocation), options.Value.CancelGracePeriod, cancellationToken);
        }
        catch (ChildProcessNotStartedException ex)
        {
            throw new TofuNotStartedException(ex.Message, ex);
        }
        // Disposing kills the group if it still runs: a consumer that stops reading early must not leave
        // tofu running, holding the state lock.
        using var running = process;
        yield return new TofuStarted(process.Identity, process.ChildProcessId);

        var lines = Channel.CreateUnbounded<TofuOutput>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = Task.WhenAll(PumpAsync(process.StandardOutput, false, lines.Writer), PumpAsync(process.StandardError, true, lines.Writer))
            .ContinueWith(_ => lines.Writer.TryComplete(), TaskScheduler.Default);

        Task<bool>? stop = null;
        using var exited = new CancellationTokenSource();
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

    /// <summary>SIGINT first, as a person pressing Ctrl-C: OpenTofu then finishes in-flight calls, writes state and releases the lock.</summary>
    private async Task<bool> StopAsync(LifelineProcess process, CancellationToken exited)
    {
        try
        {
            logger.LogInformation("Interrupting tofu process {ProcessId}", process.ChildProcessId);
            if (!process.Interrupt()) return false; // Already gone.
            await Task.Delay(options.Value.CancelGracePeriod, time, exited);
        }
        catch (OperationCanceledException)
        {
            return false; // It stopped within the grace period.
        }
        if (process.HasExited) return false;
        logger.LogWarning("tofu process {ProcessId} did not stop within {GracePeriod}; killing it and its children", process.ChildProcessId,
            options.Value.CancelGracePeriod);
        process.Kill();
        return true;
    }

    private static async Task PumpAsync(StreamReader reader, bool fromStandardError, ChannelWriter<TofuOutput> writer)
    {
        while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
            writer.TryWrite(new TofuOutputLine(line, fromStandardError));
    }

    private static ProcessStartInfo StartInfo(TofuInvocation invocation)
    {
        var start = new ProcessStartInfo(invocation.Executable) { WorkingDirectory = invocation.WorkingDirectory };
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
}
