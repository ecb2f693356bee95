using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// Runs OpenTofu on a workspace's module: writes the root module, then init, plan, a summary of the
/// saved plan, apply of exactly that plan, and the outputs, reporting each stage with its timing and
/// a readable live log. Knows nothing of workspaces, jobs or the database: the job engine calls
/// <see cref="PlanAsync"/>, waits for an approval if the workspace wants one, then calls
/// <see cref="ApplyAsync"/> on the same working directory (or <see cref="RunAsync"/> for both at once).
/// </summary>
public sealed class TofuRunner(ITofuCli cli, ITofuSessionSource sessions, IOptions<OpenTofuOptions> options, TimeProvider time,
    ILogger<TofuRunner> logger)
{
    // Fields rather than captured parameters: the nested Run reads them.
    private readonly ITofuCli cli = cli;
    private readonly ITofuSessionSource sessions = sessions;
    private readonly IOptions<OpenTofuOptions> options = options;
    private readonly TimeProvider time = time;
    private readonly ILogger<TofuRunner> logger = logger;

    public const string InstallHint = "https://opentofu.org/docs/intro/install/";

    /// <summary>
    /// A session with less than this left is not handed to another <c>tofu</c> process: an init or a
    /// plan fits in it, but an apply that starts after a long approval wait gets a fresh one.
    /// </summary>
    public static readonly TimeSpan SessionRenewalMargin = TimeSpan.FromMinutes(10);

    /// <summary>Plans, and applies the plan straight away if it changes anything (automatic approval).</summary>
    public async Task<TofuRunResult> RunAsync(TofuRunRequest request, IRunLog log, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(request, log, cancellationToken);
        if (!plan.Succeeded) return plan;
        if (plan.Plan is { HasChanges: false, OutputChanges.Count: 0 })
        {
            // Nothing to apply: no need to take the state lock again. Outputs are still read, so a
            // caller gets them from a no-op run too.
            DiscardPlan(request);
            var outputs = await new Run(this, request, log, TofuStage.ReadOutputs).ReadOutputsOnlyAsync(cancellationToken);
            return outputs with { Plan = plan.Plan, Timings = [.. plan.Timings, .. outputs.Timings], TofuVersion = plan.TofuVersion };
        }
        var apply = await ApplyAsync(request, log, cancellationToken);
        return apply with { Plan = plan.Plan, Timings = [.. plan.Timings, .. apply.Timings], TofuVersion = plan.TofuVersion };
    }

    /// <summary>
    /// Checks the executable, writes the root module, runs init and plan (with <c>-destroy</c> for a
    /// destroy run), and summarises the saved plan. The secret variables file is gone when this returns;
    /// the plan file stays for <see cref="ApplyAsync"/> (it holds variable values: see <see cref="DiscardPlan"/>).
    /// </summary>
    public Task<TofuRunResult> PlanAsync(TofuRunRequest request, IRunLog log, CancellationToken cancellationToken) =>
        new Run(this, request, log, TofuStage.CheckVersion).PlanAsync(cancellationToken);

    /// <summary>Applies the saved plan and reads the outputs. The plan file is deleted whatever happens.</summary>
    public Task<TofuRunResult> ApplyAsync(TofuRunRequest request, IRunLog log, CancellationToken cancellationToken) =>
        new Run(this, request, log, TofuStage.Apply).ApplyAsync(cancellationToken);

    /// <summary>
    /// Moves the state of a finished run to <paramref name="destination"/>: rewrites the backend and runs
    /// <c>tofu init -migrate-state -force-copy</c> (copy without asking). Used once per cloud account and
    /// region, when the state backend's own state leaves the working directory for the bucket it created.
    /// </summary>
    public Task<TofuRunResult> MigrateStateAsync(TofuRunRequest request, TofuBackend destination, IRunLog log, CancellationToken cancellationToken) =>
        new Run(this, request, log, TofuStage.Init).MigrateStateAsync(destination, cancellationToken);

    /// <summary>
    /// Releases a state lock that a killed process left behind: writes the root module (without secret
    /// inputs, which unlocking does not need), runs init, then <c>tofu force-unlock -force ID</c>. Only an
    /// operator decides this (a lock may belong to a run that still works); the caller checks and audits.
    /// </summary>
    public Task<TofuRunResult> ForceUnlockAsync(TofuRunRequest request, string lockId, IRunLog log, CancellationToken cancellationToken) =>
        new Run(this, request with { SensitiveVariables = [] }, log, TofuStage.CheckVersion).ForceUnlockAsync(lockId, cancellationToken);

    /// <summary>Whether the plan that <see cref="PlanAsync"/> saved is still in the working directory, ready for <see cref="ApplyAsync"/>.</summary>
    public static bool HasSavedPlan(TofuRunRequest request) => File.Exists(Path.Combine(request.WorkingDirectory, RootModuleWriter.PlanFile));

    /// <summary>
    /// Deletes what holds secrets in a working directory: the variables file and the saved plan (a plan
    /// file embeds every variable value). Call it when a plan is rejected or abandoned.
    /// </summary>
    public static void DiscardPlan(TofuRunRequest request) => DiscardSecrets(request.WorkingDirectory);

    private static void DiscardSecrets(string workingDirectory)
    {
        if (!Directory.Exists(workingDirectory)) return;
        File.Delete(Path.Combine(workingDirectory, RootModuleWriter.SensitiveVariablesFile));
        File.Delete(Path.Combine(workingDirectory, RootModuleWriter.PlanFile));
    }

    /// <summary>
    /// Removes a run's working directory once nobody needs it: the files that hold secrets first, so a
    /// directory that cannot be removed whole (a file in use, permissions) at least keeps none of them.
    /// A leftover directory is logged, never an error: the next run uses a new one.
    /// </summary>
    public static void DeleteWorkingDirectory(string workingDirectory, ILogger logger)
    {
        try
        {
            DiscardSecrets(workingDirectory);
            Directory.Delete(workingDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not delete the run's working directory {Directory}", workingDirectory);
        }
    }

    /// <summary>The state of one call: its stage timings, its redactor, where it is.</summary>
    private sealed class Run
    {
        private readonly TofuRunner runner;
        private readonly TofuRunRequest request;
        private readonly IRunLog log;
        private readonly List<string> sessionSecrets = [];
        private RunLogFormatter formatter;
        private TofuSession? session;
        private readonly List<TofuStageTiming> timings = [];
        private readonly string executable;
        private TofuStage stage;
        private string? tofuVersion;
        private TofuStateLock? stateLock;

        public Run(TofuRunner runner, TofuRunRequest request, IRunLog log, TofuStage firstStage)
        {
            this.runner = runner;
            this.request = request;
            this.log = log;
            stage = firstStage;
            executable = runner.options.Value.ExecutableFor(request.Provider);
            formatter = NewFormatter();
        }

        /// <summary>The run's secret inputs and every session secret it was given so far are masked in whatever it writes.</summary>
        private RunLogFormatter NewFormatter() =>
            new(new SecretRedactor(SecretStrings(request.SensitiveVariables).Concat(sessionSecrets)), runner.time);

        public async Task<TofuRunResult> PlanAsync(CancellationToken cancellationToken)
        {
            if (await CheckVersionAsync(cancellationToken) is { } refused) return refused;

            var prepared = await StageAsync(TofuStage.Prepare, cancellationToken, async () =>
            {
                await RootModuleWriter.WriteAsync(request, cancellationToken);
                await NoteAsync($"Root module written for {request.Provider.ToDbText()} ({request.Operation.ToDbText()}); module " +
                    $"{RootModuleWriter.LocalModuleSource(request.WorkingDirectory, request.ModuleSource)}");
                return null;
            });
            if (prepared is not null) return prepared;

            if (await TofuStageAsync(TofuStage.Init, ["init", "-input=false", "-no-color"], cancellationToken) is { } initFailed)
                return initFailed;

            List<string> planArguments = ["plan", "-json", "-input=false", $"-out={RootModuleWriter.PlanFile}"];
            if (request.Operation == TofuOperation.Destroy) planArguments.Add("-destroy");
            if (request.SensitiveVariables.Count > 0) planArguments.Add($"-var-file={RootModuleWriter.SensitiveVariablesFile}");
            try
            {
                if (await TofuStageAsync(TofuStage.Plan, planArguments, cancellationToken) is { } planFailed)
                    return planFailed;
            }
            finally
            {
                // The saved plan carries the values from here on; the file must not outlive the plan.
                File.Delete(Path.Combine(request.WorkingDirectory, RootModuleWriter.SensitiveVariablesFile));
            }

            TofuPlanSummary? summary = null;
            var show = new StringBuilder();
            var summarized = await TofuStageAsync(TofuStage.Summarize, ["show", "-json", RootModuleWriter.PlanFile], cancellationToken, show, () =>
            {
                try
                {
                    summary = TofuPlanSummary.Parse(show.ToString());
                    return null;
                }
                catch (JsonException)
                {
                    // The document's text is never repeated: it holds every value of the plan.
                    return "tofu show -json did not print a plan OpenTofu's format describes.";
                }
            });
            show.Clear();
            if (summarized is not null) return summarized;

            await NoteAsync(summary!.Headline);
            return Finished() with { Plan = summary };
        }

        public async Task<TofuRunResult> MigrateStateAsync(TofuBackend destination, CancellationToken cancellationToken)
        {
            var rewritten = await StageAsync(TofuStage.Prepare, cancellationToken, async () =>
            {
                await RootModuleWriter.WriteBackendAsync(request.WorkingDirectory, destination, cancellationToken);
                await NoteAsync($"Moving the state to {RootModuleWriter.Describe(destination)}.");
                return null;
            });
            if (rewritten is not null) return rewritten;
            if (await TofuStageAsync(TofuStage.Init, ["init", "-input=false", "-no-color", "-migrate-state", "-force-copy"],
                cancellationToken) is { } failed)
                return failed;
            return Finished();
        }

        public async Task<TofuRunResult> ForceUnlockAsync(string lockId, CancellationToken cancellationToken)
        {
            if (await CheckVersionAsync(cancellationToken) is { } refused) return refused;
            var prepared = await StageAsync(TofuStage.Prepare, cancellationToken, async () =>
            {
                await RootModuleWriter.WriteAsync(request, cancellationToken);
                return null;
            });
            if (prepared is not null) return prepared;
            if (await TofuStageAsync(TofuStage.Init, ["init", "-input=false", "-no-color"], cancellationToken) is { } initFailed)
                return initFailed;
            if (await TofuStageAsync(TofuStage.Unlock, ["force-unlock", "-force", lockId], cancellationToken) is { } unlockFailed)
                return unlockFailed;
            await NoteAsync($"State lock {lockId} released.");
            return Finished();
        }

        public async Task<TofuRunResult> ApplyAsync(CancellationToken cancellationToken)
        {
            try
            {
                if (!HasSavedPlan(request))
                    return await FailAsync("The saved plan is gone (the run moved to another worker, or it was discarded); plan again.");
                if (await TofuStageAsync(TofuStage.Apply, ["apply", "-json", "-input=false", RootModuleWriter.PlanFile],
                    cancellationToken) is { } applyFailed)
                    return applyFailed;
            }
            finally
            {
                DiscardPlan(request);
            }
            return await ReadOutputsOnlyAsync(cancellationToken);
        }

        public async Task<TofuRunResult> ReadOutputsOnlyAsync(CancellationToken cancellationToken)
        {
            TofuOutputs? outputs = null;
            var output = new StringBuilder();
            var read = await TofuStageAsync(TofuStage.ReadOutputs, ["output", "-json"], cancellationToken, output, () =>
            {
                try
                {
                    outputs = TofuOutputs.Parse(output.ToString());
                    return null;
                }
                catch (JsonException)
                {
                    return "tofu output -json did not print the outputs as JSON.";
                }
            });
            output.Clear(); // It held the sensitive values too.
            if (read is not null) return read;
            await NoteAsync(outputs!.Values.Count + outputs.SensitiveNames.Count == 0
                ? "No outputs."
                : "Outputs: "
                    + string.Join(", ", outputs.Values.Keys.Concat(outputs.SensitiveNames.Select(n => n + " (sensitive, not kept)"))
                    .Order(StringComparer.Ordinal)));
            return Finished() with { Outputs = outputs };
        }

        /// <summary>
        /// A missing or too old executable ends the run here, with the exact thing to install: an
        /// operator should not have to decode an exec error from a job log.
        /// </summary>
        private async Task<TofuRunResult?> CheckVersionAsync(CancellationToken cancellationToken)
        {
            var minimum = runner.options.Value.ParsedMinimumVersion;
            var output = new StringBuilder();
            var failed = await TofuStageAsync(TofuStage.CheckVersion, ["version", "-json"], cancellationToken, output, () =>
            {
                var reported = TofuVersion.FromVersionJson(output.ToString());
                if (TofuVersion.Parse(reported) is not { } version)
                    return $"'{executable}' did not report an OpenTofu version. {Remedy()}";
                tofuVersion = reported;
                return version < minimum ? $"'{executable}' is OpenTofu {reported}, older than the {minimum} this Portal needs. {Remedy()}" : null;
            });
            if (failed is null) await NoteAsync($"OpenTofu {tofuVersion} at {executable}");
            return failed;
        }

        /// <summary>What to do when the executable is missing or too old: exactly what to install, or which setting to fix.</summary>
        private string Remedy() => request.Provider == TofuProvider.Sandbox
            ? $"The sandbox simulator ships with the Portal as 'tofu-sandbox' next to its binary; reinstall the Portal or set " +
                $"{OpenTofuOptions.Section}:{nameof(OpenTofuOptions.SandboxExecutable)} to its path."
            : $"Install OpenTofu {runner.options.Value.ParsedMinimumVersion} or newer from {InstallHint} and put 'tofu' on the PATH, or set " +
                $"{OpenTofuOptions.Section}:{nameof(OpenTofuOptions.Executable)} to its full path.";

        /// <summary>
        /// Runs one tofu command as a stage. Without <paramref name="capture"/> every line goes to the log
        /// (the -json stream carries no values). With it, stdout stays in memory, is never logged (show
        /// and output print values, secret ones included), and <paramref name="interpret"/> reads it.
        /// </summary>
        private Task<TofuRunResult?> TofuStageAsync(TofuStage tofuStage, IReadOnlyList<string> arguments, CancellationToken cancellationToken,
            StringBuilder? capture = null, Func<string?>? interpret = null) =>
            StageAsync(tofuStage, cancellationToken, async () =>
            {
                // The version check runs before the working directory exists, and needs none: were it
                // run there, a missing directory would read as a missing executable.
                var directory = tofuStage == TofuStage.CheckVersion ? Path.GetTempPath() : request.WorkingDirectory;
                var invocation = new TofuInvocation(executable, arguments, directory, await EnvironmentAsync(cancellationToken));
                string? firstError = null;
                string? lastStandardError = null;
                TofuExited? exit = null;
                TofuStarted? started = null;
                try
                {
                    await foreach (var output in runner.cli.RunAsync(invocation, cancellationToken))
                    {
                        switch (output)
                        {
                            case TofuStarted s:
                                started = s;
                                await log.ProcessStartedAsync(tofuStage, s.Process, CancellationToken.None);
                                break;
                            case TofuExited e:
                                exit = e;
                                break;
                            case TofuOutputLine { FromStandardError: false } line when capture is not null:
                                capture.AppendLine(line.Text);
                                break;
                            case TofuOutputLine line:
                                var message = TofuUiParser.Parse(line.Text, line.FromStandardError);
                                if (line.FromStandardError && RunLogFormatter.Unboxed(line.Text) is { Length: > 0 } plain)
                                    lastStandardError = firstError is null && IsErrorHeadline(plain) ? (firstError = plain) : plain;
                                if (message is TofuDiagnosticMessage { Diagnostic.Severity: TofuLevel.Error } diagnostic && stateLock is null
                                    && TofuStateLock.FromDiagnostic(diagnostic.Diagnostic) is { } held)
                                {
                                    stateLock = held;
                                    firstError ??= $"the workspace's state is locked by {held.Describe()}. OpenTofu takes the lock for every plan " +
                                        $"and apply; "
                                        + "if no run of this workspace is still working on it (a killed process leaves its lock behind), an " +
                                            "operator can release it.";
                                }
                                foreach (var formatted in formatter.Format(tofuStage, message))
                                {
                                    await log.WriteAsync(formatted, CancellationToken.None);
                                    if (firstError is null && message is TofuDiagnosticMessage { Diagnostic.Severity: TofuLevel.Error }
                                        && formatted.Level == RunLogLevel.Error)
                                        firstError = formatted.Text;
                                }
                                break;
                        }
                    }
                }
                finally
                {
                    if (started is not null) await log.ProcessEndedAsync(started.Process, CancellationToken.None);
                }

                if (exit is { Interrupted: true }) return new Stopped(exit.Killed);
                if (exit is null || exit.ExitCode != 0)
                {
                    var reason = firstError ?? formatter.Redact(lastStandardError) ?? $"it exited with code {exit?.ExitCode}";
                    return $"tofu {arguments[0]} failed: {reason}";
                }
                return interpret?.Invoke();
            });

        /// <summary>
        /// A plain-text error's first line ("Error: …", or "Failed to unlock state: …" from force-unlock):
        /// what follows it (a lock's info, a hint) is detail.
        /// </summary>
        private static bool IsErrorHeadline(string line) =>
            line.StartsWith("Error:", StringComparison.Ordinal) || line.StartsWith("Failed to ", StringComparison.Ordinal);

        /// <summary>Times a stage and turns its outcome (null: fine; a string: failed; <see cref="Stopped"/>: cancelled) into a result.</summary>
        private async Task<TofuRunResult?> StageAsync(TofuStage next, CancellationToken cancellationToken, Func<Task<object?>> body)
        {
            stage = next;
            if (cancellationToken.IsCancellationRequested) return await CancelledAsync(killed: false);
            await log.StageStartedAsync(next, CancellationToken.None);
            var startedAt = runner.time.GetUtcNow();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            object? outcome;
            try
            {
                outcome = await body();
            }
            catch (TofuNotStartedException ex)
            {
                outcome = $"OpenTofu cannot be run: {ex.Message} {Remedy()}";
            }
            catch (TofuSessionUnavailableException ex)
            {
                outcome = ex.Message;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Cancelled while a session was being obtained: no process was running.
                outcome = new Stopped(Killed: false);
            }
            catch (IOException ex)
            {
                outcome = $"The working directory could not be written: {ex.Message}";
            }
            catch (UnauthorizedAccessException ex)
            {
                outcome = $"The working directory could not be written: {ex.Message}";
            }
            timings.Add(new TofuStageTiming(next, startedAt, watch.Elapsed, outcome is null));
            runner.logger.LogInformation("tofu stage {Stage} ended after {ElapsedMs} ms: {Outcome}", next, watch.ElapsedMilliseconds,
                outcome switch { null => "succeeded", Stopped => "cancelled", _ => "failed" });
            return outcome switch
            {
                null => null,
                Stopped stopped => await CancelledAsync(stopped.Killed),
                string error => await FailAsync(error),
                _ => throw new InvalidOperationException("Unexpected stage outcome."),
            };
        }

        private sealed record Stopped(bool Killed);

        private async Task<TofuRunResult> FailAsync(string error)
        {
            error = formatter.Redact(error) ?? error;
            await NoteAsync($"Run failed in {StageName(stage)}: {error}", RunLogLevel.Error);
            return new TofuRunResult
            {
                Status = TofuRunStatus.Failed,
                Stage = stage,
                Error = error,
                Timings = timings,
                TofuVersion = tofuVersion,
                WorkspaceState = stateLock is null ? WorkspaceStateAfterFailure(stage, request.Operation) : LockedOutState,
                StateLock = stateLock,
            };
        }

        private async Task<TofuRunResult> CancelledAsync(bool killed)
        {
            var state = WorkspaceStateAfterCancel(stage, request.Operation, killed);
            await NoteAsync($"Run cancelled during {StageName(stage)}{(killed ? " (OpenTofu did not stop in time and was killed)" : "")}. {state}",
                RunLogLevel.Warning);
            return new TofuRunResult
            {
                Status = TofuRunStatus.Cancelled,
                Stage = stage,
                Error = $"Cancelled during {StageName(stage)}.",
                Timings = timings,
                TofuVersion = tofuVersion,
                WorkspaceState = state,
            };
        }

        private TofuRunResult Finished() => new() { Status = TofuRunStatus.Succeeded, Stage = stage, Timings = timings, TofuVersion = tofuVersion };

        private ValueTask NoteAsync(string text, RunLogLevel level = RunLogLevel.Info) =>
            log.WriteAsync(new RunLogLine(runner.time.GetUtcNow(), stage, level, formatter.Redact(text) ?? text), CancellationToken.None);

        private async Task<Dictionary<string, string>> EnvironmentAsync(CancellationToken cancellationToken)
        {
            var environment = new Dictionary<string, string>(request.Environment);
            if (request.Provider == TofuProvider.Sandbox && !environment.ContainsKey("TOFU_SANDBOX_SPEED"))
                environment["TOFU_SANDBOX_SPEED"] = runner.options.Value.SandboxSpeed.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var (name, value) in (await SessionAsync(cancellationToken)).Environment)
                environment[name] = value;
            return environment;
        }

        /// <summary>
        /// The session for the next process: the one this run already has while it lasts long enough,
        /// otherwise a new one, whose secrets the redactor learns before any process could print them.
        /// </summary>
        private async Task<TofuSession> SessionAsync(CancellationToken cancellationToken)
        {
            if (session is { ExpiresAt: null } || (session?.ExpiresAt is { } expires && expires - runner.time.GetUtcNow() > SessionRenewalMargin))
                return session;
            session = await runner.sessions.SessionForAsync(request, cancellationToken);
            if (session.Secrets.Count > 0)
            {
                sessionSecrets.AddRange(session.Secrets);
                formatter = NewFormatter();
            }
            return session;
        }
    }

    private static string StageName(TofuStage stage) => stage switch
    {
        TofuStage.StateBackend => "creating the state backend",
        TofuStage.CheckVersion => "the version check",
        TofuStage.Prepare => "preparation",
        TofuStage.Init => "init",
        TofuStage.Plan => "plan",
        TofuStage.Summarize => "the plan summary",
        TofuStage.Apply => "apply",
        TofuStage.ReadOutputs => "reading the outputs",
        TofuStage.Unlock => "releasing the state lock",
        _ => stage.ToString(),
    };

    /// <summary>A plan or apply that could not take the state lock did nothing: OpenTofu takes it before it reads or writes anything.</summary>
    public const string LockedOutState = "Nothing was changed in the cloud: OpenTofu could not take the state lock.";

    public static string WorkspaceStateAfterCancel(TofuStage stage, TofuOperation operation, bool killed)
    {
        var state = stage switch
        {
            TofuStage.Unlock => "Nothing was changed in the cloud; the state lock may still be held.",
            < TofuStage.Apply => "Nothing was changed in the cloud: the run stopped before applying.",
            TofuStage.Apply when operation == TofuOperation.Destroy =>
                "The destroy was interrupted: some resources may already be gone while others remain. Run the destroy again to finish it.",
            TofuStage.Apply => "The apply was interrupted: some resources may exist or have changed. Run a plan to see where the workspace stands.",
            _ => "The changes were applied; only reading the outputs was interrupted. Run again to read them.",
        };
        if (killed && stage is TofuStage.Init or TofuStage.Plan or TofuStage.Apply)
            state += " OpenTofu was killed before it could clean up: the state may still be locked (release it with 'tofu force-unlock')"
                + (stage == TofuStage.Apply ? ", and resources created in its last moments may be missing from the state." : ".");
        return state;
    }

    public static string WorkspaceStateAfterFailure(TofuStage stage, TofuOperation operation) => stage switch
    {
        TofuStage.Unlock => "Nothing was changed in the cloud; the state lock is still held.",
        < TofuStage.Apply => "Nothing was changed in the cloud: the run failed before applying.",
        TofuStage.Apply when operation == TofuOperation.Destroy =>
            "The destroy failed part-way: some resources are gone, others remain. Fix the cause and run the destroy again.",
        TofuStage.Apply => "The apply failed part-way: resources before the failure exist. Fix the cause and retry; a new plan shows what remains.",
        _ => "The changes were applied; only reading the outputs failed. Run again to read them.",
    };

    /// <summary>Every string inside the secret inputs, so the redactor can mask each wherever it appears.</summary>
    private static IEnumerable<string> SecretStrings(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => SecretStrings(p.Value)),
        JsonArray array => array.SelectMany(SecretStrings),
        JsonValue value => [value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString()],
        _ => [],
    };
}
