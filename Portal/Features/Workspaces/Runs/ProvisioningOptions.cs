using Microsoft.Extensions.Options;
using Cogrion.Portal.Infrastructure.Configuration;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>What a workspace run needs besides the runner's own settings (<c>OpenTofu</c> section).</summary>
public sealed class ProvisioningOptions
{
    public const string Section = "Provisioning";

    /// <summary>The directory holding terraform/aws and terraform/alicloud (the Portal's image ships them).</summary>
    public string ModulesRoot { get; set; } = Path.Combine(AppContext.BaseDirectory, "terraform");

    /// <summary>
    /// Where sandbox workspaces keep their state (the sandbox has no bucket). Outlives runs, as a bucket would.
    /// </summary>
    public string SandboxStateRoot { get; set; } = Path.Combine(Path.GetTempPath(), "cogrion-sandbox-state");

    /// <summary>The Portal's URL as the Cluster Agent should call it (written to the module's portal_url).</summary>
    public string PortalUrl { get; set; } = "http://127.0.0.1:5080";

    public string AgentImage { get; set; } = "ghcr.io/cogrion/portal-agent:latest";

    /// <summary>The runner's egress ranges, allowed to reach each cluster's API.</summary>
    public string[] ApiAllowedCidrs { get; set; } = [];

    /// <summary>
    /// The Portal.Agent executable to run for sandbox workspaces (simulated cluster). Empty: no agent,
    /// and a sandbox workspace is ready as soon as its apply succeeded.
    /// </summary>
    public string SandboxAgentExecutable { get; set; } = "";

    /// <summary>How long a sandbox workspace waits for its agent to register before the run fails.</summary>
    public TimeSpan SandboxAgentRegistrationTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often every ready workspace is planned to detect drift. Zero turns drift detection off.</summary>
    public TimeSpan DriftInterval { get; set; } = TimeSpan.FromHours(6);
}

public sealed class ProvisioningOptionsValidator : IValidateOptions<ProvisioningOptions>
{
    public ValidateOptionsResult Validate(string? name, ProvisioningOptions options)
    {
        var errors = new ValidationErrors(ProvisioningOptions.Section);
        errors.RequireText(nameof(options.ModulesRoot), options.ModulesRoot);
        errors.RequireText(nameof(options.SandboxStateRoot), options.SandboxStateRoot);
        errors.RequireAbsoluteUrl(nameof(options.PortalUrl), options.PortalUrl, requireHttps: false);
        errors.RequireText(nameof(options.AgentImage), options.AgentImage);
        if (options.DriftInterval < TimeSpan.Zero || (options.DriftInterval > TimeSpan.Zero && options.DriftInterval < TimeSpan.FromMinutes(1)))
            errors.Add(nameof(options.DriftInterval), "must be zero (off) or at least 00:01:00.");
        return errors.ToResult();
    }
}
