using System.Reflection;
using System.Text;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Features.Agents.Versions;

namespace Cogrion.Portal.Features.Agents.Install;

/// <summary>
/// The manual install path: terraform/modules/cluster-agent/install.yaml.tftpl, the same file the
/// OpenTofu module applies (embedded in the Portal at build time), rendered with the workspace's
/// bootstrap token and the Portal's current agent image. RBAC and its reasons are in the template.
/// </summary>
public sealed class InstallManifest(AgentRelease release)
{
    private static readonly Lazy<string> Template = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(InstallTemplate.FileName)
            ?? throw new InvalidOperationException($"{InstallTemplate.FileName} is not embedded in the Portal.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public string Render(BootstrapToken token, string portalUrl)
    {
        var yaml = new StringBuilder();
        yaml.Append($"""
            # Cogrion Cluster Agent for workspace {token.WorkspaceId}
            # Apply with: kubectl apply -f cogrion-agent.yaml
            # The bootstrap token below works once, until {token.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC. The agent registers
            # a key of its own with it and keeps that key in the Secret {AgentInstall.StateSecret}.

            """);
        yaml.Append(InstallTemplate.Render(Template.Value,
            InstallTemplate.Values(token.TenantId, token.WorkspaceId, release.Current.ToString(), portalUrl, token.Token)));
        return yaml.ToString();
    }
}
