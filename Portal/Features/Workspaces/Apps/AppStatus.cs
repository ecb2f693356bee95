using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>What the app page and the workspace page say about an app.</summary>
public enum AppState { Installing, Ready, Degraded, Failed, Removing, Removed }

/// <summary>A failure the release reported, kept until a newer one replaces it (a rollback or a later success does not erase it).</summary>
public sealed record AppFailure(string Reason, string Message, string? ChartVersion, DateTimeOffset At);

/// <summary>
/// The app's state with its cause, as of the agent's last report; <see cref="AgentSilentSince"/> is set
/// when the agent has stopped reporting, so a stale "Ready" is never shown as current.
/// </summary>
public sealed record AppStatusView(AppState State, string Cause, DateTimeOffset? AsOf, DateTimeOffset? AgentSilentSince, AppFailure? LastFailure)
{
    public string StateText => State.ToString();
}

/// <summary>
/// Turns the agent's report of a Flux HelmRelease into one of the states people read. The rules, in order:
/// removing wins; no report of the current desired revision yet, or helm-controller still reconciling
/// (generation not observed, Reconciling, Ready Unknown) is Installing; Ready False, Released False or
/// Stalled is Failed (the cause is the failing Released condition's message, which keeps the error
/// after a remediation rollback mirrors "RollbackSucceeded" into Ready); Ready with any workload not
/// ready is Degraded (a release that reports success while its workload is broken); otherwise Ready.
/// </summary>
public static class AppStatus
{
    public static AppStatusView Derive(WorkspaceApp app, DateTimeOffset? agentLastSeen, TimeSpan offlineAfter, DateTimeOffset now)
    {
        var silent = agentLastSeen is null || now - agentLastSeen > offlineAfter ? agentLastSeen ?? app.CreatedAt : (DateTimeOffset?)null;
        var (state, cause) = StateOf(app);
        return new AppStatusView(state, cause, app.ReportedAt, silent, app.LastFailure);
    }

    private static (AppState, string) StateOf(WorkspaceApp app)
    {
        if (app.DesiredState == AppDesiredState.Removed) return (AppState.Removed, "Removed.");
        if (app.DesiredState == AppDesiredState.Removing)
            return (AppState.Removing, app.Report is null ? $"Namespace {app.Namespace} is gone."
                : $"Deleting namespace {app.Namespace} and everything in it.");
        var report = app.Report;
        if (report is null || report.DesiredRevision != app.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture))
            return (AppState.Installing, app.Revision == 1
                ? $"Waiting for the agent to install chart {app.ChartVersion}."
                : $"Waiting for the agent to apply revision {app.Revision} (chart {app.ChartVersion}).");

        var ready = Condition(report, "Ready");
        var released = Condition(report, "Released");
        var stalled = Condition(report, "Stalled");
        var reconciling = Condition(report, "Reconciling");
        if (ready?.Status == "False" || released?.Status == "False" || stalled?.Status == "True")
        {
            var cause = released?.Status == "False" ? released.Message : ready?.Message ?? stalled?.Message;
            if (Condition(report, "Remediated") is { Status: "True" } remediated) cause = $"{cause} {remediated.Message}.";
            return (AppState.Failed, cause ?? "The release failed without a message.");
        }
        if (report.Generation != report.ObservedGeneration || reconciling?.Status == "True" || ready is null || ready.Status == "Unknown")
            return (AppState.Installing, ready?.Message ?? reconciling?.Message ?? "Flux has not reconciled the release yet.");
        var unready = report.Workloads.Where(w => w.Ready < w.Desired).ToList();
        if (unready.Count > 0)
            return (AppState.Degraded, "Released, but not every workload is ready: " +
                string.Join(", ", unready.Select(w => $"{w.Kind} {w.Name} {w.Ready}/{w.Desired} ready")) + ".");
        return (AppState.Ready, ready.Message ?? "Ready.");
    }

    public static ReleaseCondition? Condition(AppReport report, string type) => report.Conditions.FirstOrDefault(c => c.Type == type);

    /// <summary>The failure a report shows, if any: the failing Released condition (install or upgrade failed) or a stalled artifact.</summary>
    public static AppFailure? FailureIn(AppReport report, DateTimeOffset now)
    {
        var failing = Condition(report, "Released") is { Status: "False" } released ? released
            : Condition(report, "Ready") is { Status: "False", Reason: "ArtifactFailed" or "InstallFailed" or "UpgradeFailed" } ready ? ready
            : null;
        return failing is null ? null
            : new AppFailure(failing.Reason ?? "Failed", failing.Message ?? "", report.LastAttemptedRevision, failing.LastTransitionTime ?? now);
    }
}
