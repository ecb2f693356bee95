using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Features.Agents.Install;
using Cogrion.Portal.Features.Agents.Versions;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>The manual install (kubectl apply -f) as the Portal renders it from the module's own template.</summary>
public sealed class InstallManifestTests
{
    private static readonly BootstrapToken Token = new(Guid.NewGuid(), "cgb_token-value", Guid.NewGuid(), Guid.NewGuid(),
        DateTimeOffset.UtcNow.AddHours(1));

    private static string Render(string? image = null) =>
        new InstallManifest(new AgentRelease(Options.Create(new AgentApiOptions { AgentImage = image ?? AgentRelease.DefaultImage })))
            .Render(Token, "https://portal.example");

    [Fact]
    public void The_manifest_carries_the_bootstrap_token_only_in_its_secret_mounted_as_a_file()
    {
        var yaml = Render();

        Assert.Equal(1, yaml.Split("cgb_token-value").Length - 1);
        Assert.Contains("kind: Secret\nmetadata:\n  name: cogrion-agent-bootstrap", yaml.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("secretKeyRef:", yaml);
        Assert.Contains($"- name: {AgentInstall.BootstrapTokenFileVariable}\n              value: {AgentInstall.BootstrapTokenFile}",
            yaml.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void The_manifest_is_the_modules_template_rendered()
    {
        var template = File.ReadAllText(Path.Combine(Architecture.DependencyTests.RepoRoot(), "terraform", "modules", "cluster-agent",
            InstallTemplate.FileName));
        var expected = InstallTemplate.Render(template,
            InstallTemplate.Values(Token.TenantId, Token.WorkspaceId, AgentRelease.DefaultImage, "https://portal.example", Token.Token));

        Assert.EndsWith(expected, Render());
    }

    [Fact]
    public void The_manifest_grants_no_wildcard_and_no_cluster_admin()
    {
        var yaml = Render();

        Assert.DoesNotContain("\"*\"", yaml);
        Assert.DoesNotContain("cluster-admin", yaml);
        Assert.Contains("verbs: [\"bind\"]", yaml);
        Assert.Contains($"resourceNames: [\"{AgentInstall.WorkloadClusterRole}\"]", yaml);
    }

    [Fact]
    public void The_agent_runs_restricted_in_a_restricted_namespace_and_upgrades_without_a_gap()
    {
        var yaml = Render();

        Assert.Contains("pod-security.kubernetes.io/enforce: restricted", yaml);
        Assert.Contains("runAsNonRoot: true", yaml);
        Assert.Contains("readOnlyRootFilesystem: true", yaml);
        Assert.Contains("drop: [\"ALL\"]", yaml);
        Assert.Contains("maxUnavailable: 0", yaml);
        Assert.Contains($"path: {AgentInstall.ReadinessPath}", yaml);
        Assert.Contains("\"https://portal.example\"", yaml);
    }

    [Fact]
    public void The_image_is_pinned_by_version_never_latest()
    {
        var yaml = Render($"{AgentInstall.ImageRepository}:1.4.2@sha256:{new string('a', 64)}");

        Assert.Contains($"image: \"{AgentInstall.ImageRepository}:1.4.2@sha256:{new string('a', 64)}\"", yaml);
        Assert.DoesNotContain(":latest", yaml);
    }

    [Fact]
    public void Every_document_names_its_kind()
    {
        var documents = InstallTemplate.SplitDocuments(Render());

        // Namespace, ServiceAccount, Secret, two ClusterRoles, ClusterRoleBinding, the support reader's ServiceAccount, ClusterRole and
        // ClusterRoleBinding, Role, RoleBinding, NetworkPolicy, Deployment.
        Assert.Equal(13, documents.Count);
        Assert.All(documents, d => Assert.Contains("\nkind: ", "\n" + d));
    }
}
