using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Processes;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// The stages of a run, in order. A result names the one it ended in. <see cref="StateBackend"/> comes
/// first: the first run in a cloud account and region creates the bucket every workspace there keeps
/// its state in, before the workspace's own stages; nothing of the workspace exists before
/// <see cref="Apply"/>. <see cref="Unlock"/> is no stage of a run: it is an operator's release of a
/// stale state lock (<see cref="TofuRunner.ForceUnlockAsync"/>).
/// </summary>
public enum TofuStage { StateBackend, CheckVersion, Prepare, Init, Plan, Summarize, Apply, ReadOutputs, Unlock }

public enum RunLogLevel { Info, Warning, Error }

/// <summary>
/// One line of a run's readable log. <see cref="Event"/> is the typed message it came from (null for
/// the runner's own lines); like the text, it never holds attribute or output values.
/// </summary>
public sealed record RunLogLine(DateTimeOffset At, TofuStage Stage, RunLogLevel Level, string Text, TofuEvent? Event = null);

/// <summary>
/// Where a run's log and progress go as they happen: the job engine stores and streams the log and
/// records the stage and the processes; tests collect the lines. Called in order, from one task.
/// </summary>
public interface IRunLog
{
    ValueTask WriteAsync(RunLogLine line, CancellationToken cancellationToken);

    /// <summary>A stage begins: a run whose worker dies is then known to have died in it.</summary>
    ValueTask StageStartedAsync(TofuStage stage, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// A <c>tofu</c> process runs, in a process group named by <paramref name="process"/>: recorded, a
    /// restarted worker can find and end it should this one die (ADR 0060).
    /// </summary>
    ValueTask ProcessStartedAsync(TofuStage stage, ProcessIdentity process, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>The process of <see cref="ProcessStartedAsync"/> has ended (and its group with it).</summary>
    ValueTask ProcessEndedAsync(ProcessIdentity process, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>A log that keeps every line in memory (tests, and short runs such as account verification).</summary>
public sealed class CollectingRunLog : IRunLog
{
    private readonly List<RunLogLine> lines = [];
    private readonly Lock gate = new();

    public IReadOnlyList<RunLogLine> Lines { get { lock (gate) return lines.ToList(); } }

    public string Text => string.Join('\n', Lines.Select(l => l.Text));

    public ValueTask WriteAsync(RunLogLine line, CancellationToken cancellationToken)
    {
        lock (gate) lines.Add(line);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Turns OpenTofu's messages into the lines people read: "started", "completed in 12s", diagnostics
/// with their severity and the file:line they point at. Every text passes through the run's
/// <see cref="SecretRedactor"/>, which knows the run's secret inputs: the machine-readable stream
/// carries no attribute values, but a provider's error text or a plain line might echo one.
/// </summary>
public sealed class RunLogFormatter(SecretRedactor redactor, TimeProvider time)
{
    public IEnumerable<RunLogLine> Format(TofuStage stage, TofuEvent message)
    {
        var at = message.Timestamp ?? time.GetUtcNow();
        var redacted = Redacted(message);
        RunLogLine Line(RunLogLevel level, string text) => new(at, stage, level, redactor.RedactText(text) ?? "", redacted);

        switch (message)
        {
            case TofuTextLine text when string.IsNullOrWhiteSpace(text.Text):
                yield break;
            case TofuTextLine { FromStandardError: true } text when Unboxed(text.Text).StartsWith("Error:", StringComparison.Ordinal):
                yield return Line(RunLogLevel.Error, text.Text);
                yield break;
            case TofuDiagnosticMessage d:
                var level = d.Diagnostic.Severity == TofuLevel.Warning ? RunLogLevel.Warning : RunLogLevel.Error;
                yield return Line(level, DiagnosticHeadline(d.Diagnostic));
                foreach (var detail in d.Diagnostic.Detail.Split('\n').Where(l => !string.IsNullOrWhiteSpace(l)))
                    yield return Line(level, "  " + detail.TrimEnd());
                yield break;
            case TofuHookMessage hook:
                yield return Line(hook.Kind is TofuHookKind.ApplyErrored or TofuHookKind.ProvisionErrored ? RunLogLevel.Error : RunLogLevel.Info,
                    Describe(hook));
                yield break;
            case TofuResourceChangeMessage change:
                yield return Line(RunLogLevel.Info, change.IsDrift
                    ? $"{change.Resource.Address}: {DriftPhrase(change.Action)}"
                    : $"{change.Resource.Address}: " +
                        $"{PlannedPhrase(change.Action)}{(change.Reason is { } reason ? $" ({reason.Replace('_', ' ')})" : "")}");
                yield break;
            case TofuOutputsMessage outputs:
                yield return Line(RunLogLevel.Info, outputs.Outputs.Count == 0
                    ? "Outputs: none"
                    : "Outputs: " + string.Join(", ", outputs.Outputs.Select(o => o.Sensitive ? $"{o.Name} (sensitive)" : o.Name)));
                yield break;
            case TofuVersionMessage version:
                yield return Line(RunLogLevel.Info, $"OpenTofu {version.TofuVersion}");
                yield break;
            default:
                yield return Line(message.Level switch
                {
                    TofuLevel.Error => RunLogLevel.Error,
                    TofuLevel.Warning => RunLogLevel.Warning,
                    _ => RunLogLevel.Info,
                }, message.Message);
                yield break;
        }
    }

    public string? Redact(string? text) => redactor.RedactText(text);

    /// <summary>
    /// The event a line carries, with its free texts masked too: a plain line or a provider's
    /// diagnostic may echo a secret (a session key in an error), and whoever reads the line's event
    /// must not find what its text hides.
    /// </summary>
    private TofuEvent Redacted(TofuEvent message) => message switch
    {
        TofuTextLine text => text with { Text = redactor.RedactText(text.Text) ?? "", Message = redactor.RedactText(text.Message) ?? "" },
        TofuDiagnosticMessage d => d with
        {
            Message = redactor.RedactText(d.Message) ?? "",
            Diagnostic = d.Diagnostic with
            {
                Summary = redactor.RedactText(d.Diagnostic.Summary) ?? "",
                Detail = redactor.RedactText(d.Diagnostic.Detail) ?? ""
            },
        },
        _ => message with { Message = redactor.RedactText(message.Message) ?? "" },
    };

    /// <summary>
    /// A text line without the box OpenTofu draws around a diagnostic without -json
    /// ("│ Error: ..."), so init's errors can be recognised and quoted.
    /// </summary>
    public static string Unboxed(string line) => line.Trim().TrimStart('╷', '│', '╵').Trim();

    public static string DiagnosticHeadline(TofuDiagnostic diagnostic)
    {
        var severity = diagnostic.Severity == TofuLevel.Warning ? "Warning" : "Error";
        var where = diagnostic.Range is { } r ? $" ({r.FileName}:{r.Line})" : "";
        var address = diagnostic.Address is { Length: > 0 } a ? $" [{a}]" : "";
        return $"{severity}: {diagnostic.Summary}{where}{address}";
    }

    private static string Describe(TofuHookMessage hook)
    {
        var address = hook.Resource.Address;
        var action = hook.Action ?? "apply";
        var id = hook.IdKey is { Length: > 0 } && hook.IdValue is { Length: > 0 } ? $" [{hook.IdKey}={hook.IdValue}]" : "";
        return hook.Kind switch
        {
            TofuHookKind.ApplyStart => $"{address}: {action} started{id}",
            TofuHookKind.ApplyProgress => $"{address}: still {Progressive(action)} ({Duration(hook.Elapsed)} elapsed)",
            TofuHookKind.ApplyComplete => $"{address}: {action} completed in {Duration(hook.Elapsed)}{id}",
            TofuHookKind.ApplyErrored => $"{address}: {action} failed after {Duration(hook.Elapsed)}",
            TofuHookKind.RefreshStart => $"{address}: reading current state{id}",
            TofuHookKind.RefreshComplete => $"{address}: current state read{id}",
            _ => hook.Message,
        };
    }

    private static string Progressive(string action) => action switch
    {
        "create" => "creating",
        "update" => "updating",
        "delete" => "destroying",
        "replace" => "replacing",
        "read" => "reading",
        _ => "applying",
    };

    /// <summary>
    /// A <c>resource_drift</c> message in the words of OpenTofu's plan under "Objects have changed
    /// outside of OpenTofu": the object "has changed" or "has been deleted".
    /// </summary>
    private static string DriftPhrase(string action) => action switch
    {
        "update" => "has changed outside of OpenTofu",
        "delete" => "has been deleted outside of OpenTofu",
        _ => $"changed outside of OpenTofu ({action})",
    };

    private static string PlannedPhrase(string action) => action switch
    {
        "create" => "will be created",
        "update" => "will be updated in place",
        "delete" => "will be destroyed",
        "replace" => "will be replaced",
        "read" => "will be read",
        "move" => "will be moved",
        "forget" => "will be removed from state",
        "noop" => "no change",
        _ => action,
    };

    /// <summary>"12s", "4m05s": the shape OpenTofu itself uses, short enough for a log line.</summary>
    public static string Duration(TimeSpan? elapsed)
    {
        var seconds = (int)Math.Round((elapsed ?? TimeSpan.Zero).TotalSeconds);
        return seconds < 60 ? $"{seconds}s" : $"{seconds / 60}m{seconds % 60:00}s";
    }
}
