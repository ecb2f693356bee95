using Cogrion.Agent.Protocol;
using Microsoft.Extensions.Options;

namespace Cogrion.Agent;

/// <summary>
/// How the Cluster Agent finds the Portal and paces itself. The agent always runs in a cluster (a
/// real one, or a sandbox workspace's simulated one) and is configured by its Deployment: the
/// environment variables in terraform/modules/cluster-agent/install.yaml.tftpl bind to these.
/// </summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>The Portal's base URL. The agent only ever calls out to it; nothing connects in.</summary>
    public string PortalUrl { get; set; } = "";

    /// <summary>
    /// The file holding the one-time bootstrap token (the mounted bootstrap Secret); read only until the
    /// agent has registered. No default on purpose: the install says where it mounted the token, so an
    /// install that does not say it fails plainly instead of working by coincidence.
    /// </summary>
    public string? BootstrapTokenFile { get; set; }

    /// <summary>A display name for the Portal (defaults to the host name, which in a pod is the pod's name).</summary>
    public string? Name { get; set; }

    /// <summary>The agent's own namespace (its state Secret and Deployment). Empty: the pod's namespace, from its service account.</summary>
    public string? Namespace { get; set; }

    /// <summary>The address the readiness endpoint listens on: the pod's IP (the Deployment passes status.podIP), or every address when
    /// empty.</summary>
    public string? HealthAddress { get; set; }

    public int HealthPort { get; set; } = AgentInstall.HealthPort;

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the agent lets a change of its apps settle before reporting it (ADR 0075): it watches them, and one Helm
    /// action is a burst of events (the release's status, then each workload), which this turns into one report.
    /// </summary>
    public TimeSpan AppReportDebounce { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How many change reports the agent may send, so a churning cluster cannot spend the Portal's budget (ADR 0128).</summary>
    public AppReportOptions AppReports { get; set; } = new();

    /// <summary>How long the Portal may hold a command poll open.</summary>
    public TimeSpan LongPollWait { get; set; } = TimeSpan.FromSeconds(50);

    public RetryOptions Retry { get; set; } = new();
}

/// <summary>
/// Random backoff after errors, like the GitHub Actions runner: 15–30 s, then 30–60 s after five in
/// a row, so a fleet that lost its Portal does not come back in one synchronised wave.
/// </summary>
public sealed class RetryOptions
{
    public TimeSpan MinDelay { get; set; } = TimeSpan.FromSeconds(15);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);
    public int ErrorsBeforeLongDelay { get; set; } = 5;
    public TimeSpan LongMinDelay { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan LongMaxDelay { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// The change reports' share of the Portal's per-agent budget (Agents:AgentPermitsPerMinute, 120 calls a minute by default), which
/// they share with the command polls, the results and the beats (ADR 0128): a token bucket that holds <see cref="Burst"/> reports and
/// refills so that no 60 seconds ever hold more than <see cref="PerMinute"/> of them. The first change after a quiet spell goes out
/// at once; changes while the bucket is empty wait for the next token and go out as one report with the latest state.
/// </summary>
public sealed class AppReportOptions
{
    /// <summary>The most change reports in any 60 seconds: 30, a quarter of the Portal's default budget.</summary>
    public int PerMinute { get; set; } = 30;

    /// <summary>How many reports may go back to back after a quiet spell (an install is a handful of changes within seconds).</summary>
    public int Burst { get; set; } = 10;

    /// <summary>
    /// The most this may be: half of the Portal's default budget. More would leave the polls, results and beats of a churning
    /// cluster too little; an operator who lowers Agents:AgentPermitsPerMinute lowers this with it.
    /// </summary>
    public const int MaxPerMinute = 60;

    /// <summary>The steady pace once the burst is spent: the reports beyond the burst spread over the minute.</summary>
    public TimeSpan Spacing => TimeSpan.FromMinutes(1) / (PerMinute - Burst);
}

public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.PortalUrl, UriKind.Absolute, out var portal)
            || (portal.Scheme != Uri.UriSchemeHttps && portal.Scheme != Uri.UriSchemeHttp))
            errors.Add($"Agent:PortalUrl must be the Portal's absolute http(s) URL; '{options.PortalUrl}' is not.");
        if (!string.IsNullOrWhiteSpace(options.BootstrapTokenFile) && !options.BootstrapTokenFile.StartsWith('/'))
            errors.Add($"Agent:BootstrapTokenFile must be an absolute path (the mounted bootstrap Secret, {AgentInstall.BootstrapTokenFile}).");
        if (options.HealthPort is < 1 or > 65535) errors.Add("Agent:HealthPort must be a TCP port (1-65535).");
        if (options.HeartbeatInterval <= TimeSpan.Zero) errors.Add("Agent:HeartbeatInterval must be more than zero.");
        if (options.AppReportDebounce < TimeSpan.Zero || options.AppReportDebounce > TimeSpan.FromSeconds(10))
            errors.Add("Agent:AppReportDebounce must be between zero and 10 seconds.");
        var reports = options.AppReports;
        if (reports.Burst < 1) errors.Add("Agent:AppReports:Burst must be at least 1.");
        if (reports.PerMinute <= reports.Burst || reports.PerMinute > AppReportOptions.MaxPerMinute)
            errors.Add($"Agent:AppReports:PerMinute must be more than Burst ({reports.Burst}) and at most {AppReportOptions.MaxPerMinute} " +
                "(half of the Portal's default per-agent budget; the rest is for command polls, results and heartbeats).");
        if (options.LongPollWait <= TimeSpan.Zero || options.LongPollWait > TimeSpan.FromSeconds(100))
            errors.Add("Agent:LongPollWait must be more than zero and at most 100 seconds.");
        var retry = options.Retry;
        if (retry.MinDelay < TimeSpan.Zero
            || retry.MaxDelay < retry.MinDelay) errors.Add("Agent:Retry:MaxDelay must be at least MinDelay (and both at least zero).");
        if (retry.LongMinDelay < TimeSpan.Zero || retry.LongMaxDelay < retry.LongMinDelay)
            errors.Add("Agent:Retry:LongMaxDelay must be at least LongMinDelay (and both at least zero).");
        if (retry.ErrorsBeforeLongDelay < 1) errors.Add("Agent:Retry:ErrorsBeforeLongDelay must be at least 1.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
