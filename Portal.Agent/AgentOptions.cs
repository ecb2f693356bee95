using Microsoft.Extensions.Options;

namespace Cogrion.Agent;

public enum ClusterMode
{
    /// <summary>The cluster the agent runs in: service-account token, CA bundle, KUBERNETES_SERVICE_HOST/PORT.</summary>
    InCluster,
    /// <summary>An in-memory cluster persisted to the state directory: the sandbox provider, demos and tests.</summary>
    Simulated,
}

/// <summary>How the Cluster Agent finds the Portal, where it keeps its state, and how it paces itself.</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>The Portal's base URL. The agent only ever calls out to it; nothing connects in.</summary>
    public string PortalUrl { get; set; } = "";

    /// <summary>The one-time bootstrap token; used only until the agent has registered.</summary>
    public string? BootstrapToken { get; set; }

    /// <summary>A display name for the Portal (defaults to the host name).</summary>
    public string? Name { get; set; }

    public ClusterMode Cluster { get; set; } = ClusterMode.InCluster;

    /// <summary>Simulated cluster: where the agent keeps its key, registration and the simulated cluster (a folder).</summary>
    public string StateDirectory { get; set; } = "/var/lib/cogrion-agent";

    /// <summary>In a cluster: the namespace of the Secret cogrion-agent-state that holds the agent's key and registration.</summary>
    public string StateSecretNamespace { get; set; } = "cogrion-agent";

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

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

public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.PortalUrl, UriKind.Absolute, out var portal) || (portal.Scheme != Uri.UriSchemeHttps && portal.Scheme != Uri.UriSchemeHttp))
            errors.Add($"Agent:PortalUrl must be the Portal's absolute http(s) URL; '{options.PortalUrl}' is not.");
        if (options.Cluster == ClusterMode.Simulated && string.IsNullOrWhiteSpace(options.StateDirectory))
            errors.Add("Agent:StateDirectory is required with the simulated cluster.");
        if (options.Cluster == ClusterMode.InCluster && string.IsNullOrWhiteSpace(options.StateSecretNamespace))
            errors.Add("Agent:StateSecretNamespace is required in a cluster.");
        if (options.HeartbeatInterval <= TimeSpan.Zero) errors.Add("Agent:HeartbeatInterval must be more than zero.");
        if (options.LongPollWait <= TimeSpan.Zero || options.LongPollWait > TimeSpan.FromSeconds(100))
            errors.Add("Agent:LongPollWait must be more than zero and at most 100 seconds.");
        var retry = options.Retry;
        if (retry.MinDelay < TimeSpan.Zero || retry.MaxDelay < retry.MinDelay) errors.Add("Agent:Retry:MaxDelay must be at least MinDelay (and both at least zero).");
        if (retry.LongMinDelay < TimeSpan.Zero || retry.LongMaxDelay < retry.LongMinDelay) errors.Add("Agent:Retry:LongMaxDelay must be at least LongMinDelay (and both at least zero).");
        if (retry.ErrorsBeforeLongDelay < 1) errors.Add("Agent:Retry:ErrorsBeforeLongDelay must be at least 1.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
