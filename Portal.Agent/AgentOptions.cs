using Microsoft.Extensions.Options;

namespace Cogrion.Agent;

/// <summary>How the Cluster Agent finds the Portal and where it keeps its own state.</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>The Portal's base URL. The agent only ever calls out to it; nothing connects in.</summary>
    public string PortalUrl { get; set; } = "";

    /// <summary>Where the agent keeps its key and registration (a Kubernetes Secret in a cluster; a folder in the sandbox).</summary>
    public string StateDirectory { get; set; } = "/var/lib/cogrion-agent";
}

public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.PortalUrl, UriKind.Absolute, out var portal) || (portal.Scheme != Uri.UriSchemeHttps && portal.Scheme != Uri.UriSchemeHttp))
            errors.Add($"Agent:PortalUrl must be the Portal's absolute http(s) URL; '{options.PortalUrl}' is not.");
        if (string.IsNullOrWhiteSpace(options.StateDirectory))
            errors.Add("Agent:StateDirectory is required.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
