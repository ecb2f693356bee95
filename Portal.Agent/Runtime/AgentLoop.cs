using Cogrion.Agent.Commands;
using Cogrion.Agent.Identity;
using Cogrion.Agent.Kubernetes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;
using Microsoft.Extensions.Options;

namespace Cogrion.Agent.Runtime;

/// <summary>
/// The agent's life: register once (or load the registration), then two loops until stopped: the
/// command long poll and the heartbeat. While the Portal is away the agent leaves its cluster as it
/// is and retries with random backoff; when the Portal returns, the poll catches up on every
/// command still pending. A revocation stops the agent for good, with the Portal's reason.
/// </summary>
public sealed class AgentLoop(
    IOptions<AgentOptions> options,
    IAgentStateStore store,
    AgentSession session,
    IPortalClient portal,
    CommandProcessor processor,
    InventoryReader inventory,
    AppWatcher apps,
    AppReportBudget reports,
    PortalRetryAfter retryAfter,
    Backoff backoff,
    AgentLifecycle lifecycle,
    AgentReadiness readiness,
    Secrets.EncryptionKeyRing encryptionKeys,
    TimeProvider time,
    ILogger<AgentLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Cogrion Cluster Agent {Version} starting; Portal at {PortalUrl}", AgentVersion.Current, options.Value.PortalUrl);
        try
        {
            var state = await LoadOrRegisterAsync(stoppingToken);
            if (state is null) return;
            session.Use(state);
            await BecomeReadyAsync(stoppingToken);
            logger.LogInformation("Agent {AgentId} of workspace {WorkspaceId} is connected to the Portal; polling for commands", state.AgentId,
                state.WorkspaceId);

            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var watching = apps.RunAsync(stopping.Token);
            var heartbeat = HeartbeatLoopAsync(stopping.Token);
            try
            {
                await CommandLoopAsync(stopping.Token);
            }
            finally
            {
                // However the command loop ends (stopping, an uninstall, a revocation), the beat and the watches end with it.
                await stopping.CancelAsync();
                await heartbeat;
                await watching;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (AgentRevokedException ex)
        {
            await RecordRevocationAsync(ex.Message);
        }
    }

    private async Task<AgentState?> LoadOrRegisterAsync(CancellationToken cancellationToken)
    {
        var state = await RetryAsync("load the agent's state", () => store.LoadAsync(cancellationToken), cancellationToken);
        if (state?.RevokedReason is { } reason)
        {
            lifecycle.Stop(AgentExitCodes.Revoked,
                $"This agent was revoked by the Portal: {reason} It does not call the Portal again; install it anew with a new bootstrap token.");
            return null;
        }
        if (state is not null) return state;

        if (string.IsNullOrWhiteSpace(options.Value.BootstrapTokenFile))
        {
            lifecycle.Stop(AgentExitCodes.RegistrationRefused,
                $"The agent is not registered and has no bootstrap token: Agent:BootstrapTokenFile ({AgentInstall.BootstrapTokenFileVariable}) is " +
                    $"not set. The install sets it to the mounted Secret {AgentInstall.BootstrapSecret}.");
            return null;
        }
        var tokenFile = InClusterConfiguration.ContainerPath(options.Value.BootstrapTokenFile);
        var bootstrapToken = File.Exists(tokenFile) ? (await File.ReadAllTextAsync(tokenFile, cancellationToken)).Trim() : "";
        if (bootstrapToken.Length == 0)
        {
            lifecycle.Stop(AgentExitCodes.RegistrationRefused,
                $"The agent is not registered and has no bootstrap token: {options.Value.BootstrapTokenFile} (Agent:BootstrapTokenFile, the " +
                    $"mounted Secret {AgentInstall.BootstrapSecret}) is missing or empty. Mint one for the workspace in the Portal.");
            return null;
        }
        using var key = ProtocolKeys.Create();
        var request = new RegistrationRequest(bootstrapToken, ProtocolKeys.ExportPublicKey(key), AgentVersion.Current,
            options.Value.Name ?? Environment.MachineName);
        RegistrationResponse registration;
        try
        {
            registration = await RetryAsync("register with the Portal", () => portal.RegisterAsync(request, cancellationToken), cancellationToken);
        }
        catch (RegistrationRefusedException ex)
        {
            lifecycle.Stop(AgentExitCodes.RegistrationRefused, $"The Portal refused the bootstrap token: {ex.Message}");
            return null;
        }
        if (registration.ProtocolVersion != ProtocolV1.Version)
            throw new InvalidOperationException($"The Portal speaks agent protocol v{registration.ProtocolVersion}; this agent speaks " +
                $"v{ProtocolV1.Version}.");
        state = new AgentState
        {
            AgentId = registration.AgentId,
            TenantId = registration.TenantId,
            WorkspaceId = registration.WorkspaceId,
            PortalUrl = options.Value.PortalUrl,
            TokenAudience = registration.TokenAudience,
            PrivateKey = Convert.ToBase64String(key.ExportPkcs8PrivateKey()),
            CommandKeyId = registration.CommandKeyId,
            CommandPublicKey = registration.CommandPublicKey,
            RegisteredAt = time.GetUtcNow(),
        };
        // Saved before anything else: the bootstrap token is spent, this key is now the agent's only identity.
        await RetryAsync("save the registration", async () => { await store.SaveAsync(state, cancellationToken); return true; }, cancellationToken);
        logger.LogInformation("Registered as agent {AgentId}; pinned the Portal's command key {KeyId}", state.AgentId, state.CommandKeyId);
        return state;
    }

    /// <summary>
    /// Readiness (the rollout's gate): a token exchanged with the Portal and one poll completed, with
    /// no wait. Commands that poll brings are handled at once, like any others.
    /// </summary>
    private async Task BecomeReadyAsync(CancellationToken cancellationToken)
    {
        readiness.NotReady("waiting for a token and a first poll from the Portal");
        var commands = await RetryAsync("reach the Portal with a token of its own", ()
            => portal.WaitForCommandsAsync(TimeSpan.Zero, cancellationToken), cancellationToken);
        readiness.Ready();
        logger.LogInformation("Ready: exchanged a token with the Portal and completed a poll");
        foreach (var command in commands) await processor.HandleAsync(command, cancellationToken);
    }

    private async Task CommandLoopAsync(CancellationToken cancellationToken)
    {
        var errors = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Before each poll: a due rotation happens here, on the loop that writes the state, and a
                // statement the Portal missed (or one re-signed after an identity rotation) is published.
                await encryptionKeys.EnsureCurrentAsync(cancellationToken);
                var commands = await portal.WaitForCommandsAsync(options.Value.LongPollWait, cancellationToken);
                if (errors > 0) logger.LogInformation("The Portal is reachable again after {Errors} failed attempt(s)", errors);
                errors = 0;
                foreach (var command in commands)
                {
                    await processor.HandleAsync(command, cancellationToken);
                    if (cancellationToken.IsCancellationRequested) return; // An uninstall stops the agent.
                }
            }
            catch (Exception ex) when (ex is PortalException and not AgentRevokedException or KubernetesException)
            {
                errors++;
                // Refused for the budget (429): the Portal said when (its Retry-After, which the client holds every call to), so no
                // backoff on top; anything else: the agent's random backoff.
                var delay = ex is PortalException { StatusCode: 429 } ? retryAfter.Remaining : backoff.DelayAfter(errors);
                logger.LogWarning("Command poll failed ({Errors} in a row): {Problem}. Retrying in {Delay:0.0} s", errors, ex.Message,
                    delay.TotalSeconds);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
    }

    /// <summary>
    /// A beat every <see cref="AgentOptions.HeartbeatInterval"/> with the whole inventory, read from the API; between beats,
    /// whenever the watched apps change (<see cref="AppWatcher"/>), a report: the last inventory with the apps and the managed
    /// namespaces as the watches hold them, sent only when they differ from the last report (a namespace gone is how the
    /// Portal learns an app was removed). Reports are spaced by <see cref="AppReportBudget"/> (ADR 0128): the first change
    /// after a quiet spell goes at once; changes while its bucket is empty (or while the Portal's Retry-After holds) wait, and
    /// go as one report read after the wait, so it carries the latest state. A report that failed is sent again the same way.
    /// </summary>
    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        ClusterInventory? last = null;
        var lastApps = "";
        while (!cancellationToken.IsCancellationRequested)
        {
            var interval = options.Value.HeartbeatInterval;
            // Taken before reading: a change while reading or sending is then not lost between this beat and the next.
            var change = apps.NextChange;
            try
            {
                var current = await inventory.ReadAsync(cancellationToken);
                await portal.SendHeartbeatAsync(new HeartbeatRequest(AgentVersion.Current, current), cancellationToken);
                (last, lastApps) = (current, InventoryReader.Fingerprint(current.Namespaces, current.Apps));
            }
            catch (AgentRevokedException ex)
            {
                await RecordRevocationAsync(ex.Message);
                return;
            }
            catch (Exception ex) when (ex is PortalException or KubernetesException)
            {
                // The command loop owns backoff (and the client holds every call until a 429's Retry-After is over); a missed
                // beat simply waits for the next one.
                logger.LogWarning("Heartbeat failed: {Problem}", ex.Message);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            var sent = time.GetTimestamp();
            try
            {
                var unsent = false;
                var failures = 0;
                var (failedAt, resendAfter) = (0L, TimeSpan.Zero);
                while (unsent || await ChangeBeforeAsync(change, interval - time.GetElapsedTime(sent), cancellationToken))
                {
                    // A burst of events (a Helm action writes the release, then each workload) settles into one report.
                    if (!unsent) await Task.Delay(options.Value.AppReportDebounce, time, cancellationToken);
                    var wait = Longest(reports.Wait, retryAfter.Remaining, unsent ? resendAfter - time.GetElapsedTime(failedAt) : TimeSpan.Zero);
                    if (wait > TimeSpan.Zero)
                    {
                        // Changes meanwhile join this report. When the beat is due first, the beat carries them.
                        var beat = interval - time.GetElapsedTime(sent);
                        await Task.Delay(wait < beat ? wait : beat > TimeSpan.Zero ? beat : TimeSpan.Zero, time, cancellationToken);
                        if (wait >= beat) break;
                    }
                    unsent = false;
                    change = apps.NextChange;
                    if (last is null || apps.Snapshot() is not { } watched) continue;
                    var fingerprint = InventoryReader.Fingerprint(watched.Namespaces, watched.Apps);
                    if (fingerprint == lastApps) continue;
                    if (!reports.TryTake())
                    {
                        (unsent, resendAfter) = (true, TimeSpan.Zero); // Only if the clock moved back: wait again.
                        continue;
                    }
                    var report = last with { Apps = watched.Apps, Namespaces = watched.Namespaces };
                    try
                    {
                        await portal.SendHeartbeatAsync(new HeartbeatRequest(AgentVersion.Current, report), cancellationToken);
                        (last, lastApps, failures) = (report, fingerprint, 0);
                    }
                    catch (AgentRevokedException ex)
                    {
                        await RecordRevocationAsync(ex.Message);
                        return;
                    }
                    catch (PortalException ex)
                    {
                        // Never lost: read afresh and sent again once the Portal's Retry-After (recorded by the client, holding every
                        // call) or, for other failures, the agent's backoff is over; or carried by the beat, if that comes first.
                        (unsent, failedAt) = (true, time.GetTimestamp());
                        resendAfter = ex.StatusCode == 429 ? TimeSpan.Zero : backoff.DelayAfter(++failures);
                        logger.LogWarning("Reporting an app change failed: {Problem}; it goes again when the Portal allows", ex.Message);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static TimeSpan Longest(params ReadOnlySpan<TimeSpan> waits)
    {
        var longest = TimeSpan.Zero;
        foreach (var wait in waits) if (wait > longest) longest = wait;
        return longest;
    }

    /// <summary>True when the watched apps change within <paramref name="remaining"/>; false when the beat is due first.</summary>
    private async Task<bool> ChangeBeforeAsync(Task change, TimeSpan remaining, CancellationToken cancellationToken)
    {
        if (remaining <= TimeSpan.Zero) return false;
        try
        {
            await change.WaitAsync(remaining, time, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task RecordRevocationAsync(string reason)
    {
        if (lifecycle.IsLeaving)
        {
            // Expected: the Portal revokes an agent once its uninstall succeeded. The removal under way stops the agent itself.
            logger.LogInformation("The Portal revoked this agent while it removes itself ({Reason}); the removal goes on", reason);
            return;
        }
        try
        {
            if (session.IsRegistered) await store.SaveAsync(session.State with { RevokedReason = reason }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or KubernetesException)
        {
            logger.LogError("Could not record the revocation in the agent's state: {Problem}", ex.Message);
        }
        lifecycle.Stop(AgentExitCodes.Revoked, $"The Portal revoked this agent: {reason} It stops now and will not call the Portal again.");
    }

    /// <summary>Retries transient failures (the Portal or the cluster away) with the agent's backoff; anything else is thrown.</summary>
    private async Task<T> RetryAsync<T>(string what, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        for (var errors = 1; ; errors++)
        {
            try
            {
                return await action();
            }
            catch (Exception ex) when (ex is PortalException { IsTransient: true } or KubernetesException { StatusCode: 0 or >= 500 })
            {
                var delay = backoff.DelayAfter(errors);
                logger.LogWarning("Could not {What} ({Errors} in a row): {Problem}. Retrying in {Delay:0.0} s", what, errors, ex.Message,
                    delay.TotalSeconds);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
    }
}
