using System.Reflection;
using Cogrion.Agent.Protocol;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents.Versions;

/// <summary>
/// The agent version this Portal installs and upgrades to: the image in <c>Agents:AgentImage</c>,
/// pinned by version (and digest where known). By default the agent built from the same source as
/// the Portal, <c>ghcr.io/cogrion/portal-agent:&lt;Portal version&gt;</c>.
/// </summary>
public sealed class AgentRelease(IOptions<AgentApiOptions> options)
{
    /// <summary>The Portal's own version; the agent is built from the same repository with the same one.</summary>
    public static string PortalVersion { get; } =
        typeof(AgentRelease).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static string DefaultImage => $"{AgentInstall.ImageRepository}:{PortalVersion}";

    /// <summary>The current image (validated at start-up, so it always parses).</summary>
    public AgentImage Current => AgentImage.TryParse(options.Value.AgentImage, out var image) ? image!
        : throw new InvalidOperationException($"Agents:AgentImage must be {AgentImage.Rule}.");
}
