using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// What runs need besides the runner's own settings (<c>OpenTofu</c> section): where the modules are (a
/// workspace's run and a cloud account's verification both read it), and what a workspace run passes on.
/// </summary>
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

    /// <summary>The runner's egress ranges, allowed to reach each cluster's API.</summary>
    public string[] ApiAllowedCidrs { get; set; } = [];

    /// <summary>
    /// The agent build the sandbox's clusters run for the Portal's current agent image (Agents:AgentImage).
    /// Empty: the sandbox's registry has no agent image, its pod cannot start, and a sandbox workspace is
    /// ready as soon as its apply succeeded.
    /// </summary>
    public string SandboxAgentExecutable { get; set; } = "";

    /// <summary>More images the sandbox's registry serves (an older or newer agent build, to try an upgrade).</summary>
    public List<SandboxAgentImage> SandboxAgentImages { get; set; } = [];

    /// <summary>The simulated cluster's executable (docs/sandbox.md), built next to the Portal.</summary>
    public string SandboxClusterExecutable { get; set; } = Path.Combine(AppContext.BaseDirectory, "sandbox-cluster");

    /// <summary>
    /// How long a catalog app's release may stay in a pending-* Helm state before the Portal calls it stuck and asks its agent
    /// to have Flux unlock and retry it. Longer than the HelmRelease's timeout (10m): a slow install is not a stuck one.
    /// </summary>
    public TimeSpan AppStuckPendingAfter { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The app catalog's folder (one folder per app); the sandbox's simulated Helm repositories serve its charts.</summary>
    public string CatalogRoot { get; set; } = Path.Combine(AppContext.BaseDirectory, "catalog");

    /// <summary>How long a simulated chart's workloads take to become ready in a sandbox cluster.</summary>
    public TimeSpan SandboxChartReadyDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a sandbox workspace waits for its agent to register before the run fails.</summary>
    public TimeSpan SandboxAgentRegistrationTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often every ready workspace is planned to detect drift. Zero turns drift detection off.</summary>
    public TimeSpan DriftInterval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// How often each replica looks for runs whose worker stopped: it ends the processes they left and then
    /// fails them (RunRecovery, ADR 0061). A run is cleaned up within this after the reaper took its job.
    /// </summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(15);
}

public sealed class ProvisioningOptionsValidator : IValidateOptions<ProvisioningOptions>
{
    public ValidateOptionsResult Validate(string? name, ProvisioningOptions options)
    {
        var errors = new ValidationErrors(ProvisioningOptions.Section);
        errors.RequireText(nameof(options.ModulesRoot), options.ModulesRoot);
        errors.RequireText(nameof(options.SandboxStateRoot), options.SandboxStateRoot);
        errors.RequireAbsoluteUrl(nameof(options.PortalUrl), options.PortalUrl, requireHttps: false);
        errors.RequireText(nameof(options.SandboxClusterExecutable), options.SandboxClusterExecutable);
        foreach (var (image, index) in options.SandboxAgentImages.Select((image, index) => (image, index)))
        {
            if (!Cogrion.Agent.Protocol.AgentImage.TryParse(image.Image, out _))
                errors.Add($"{nameof(options.SandboxAgentImages)}:{index}:{nameof(image.Image)}",
                    $"must be {Cogrion.Agent.Protocol.AgentImage.Rule}.");
            errors.RequireText($"{nameof(options.SandboxAgentImages)}:{index}:{nameof(image.Executable)}", image.Executable);
        }
        if (options.DriftInterval < TimeSpan.Zero || (options.DriftInterval > TimeSpan.Zero && options.DriftInterval < TimeSpan.FromMinutes(1)))
            errors.Add(nameof(options.DriftInterval), "must be zero (off) or at least 00:01:00.");
        if (options.RecoveryInterval < TimeSpan.FromMilliseconds(100) || options.RecoveryInterval > TimeSpan.FromHours(1))
            errors.Add(nameof(options.RecoveryInterval), "must be between 00:00:00.1 and 01:00:00.");
        return errors.ToResult();
    }
}

/// <summary>An image reference the sandbox's registry serves, and the agent build that stands for it.</summary>
public sealed class SandboxAgentImage
{
    public string Image { get; set; } = "";
    public string Executable { get; set; } = "";
}
