using Microsoft.Extensions.Options;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Features.Agents.Install;

namespace Cogrion.Portal.Tests.Agents;

public sealed class InstallManifestTests
{
    private static readonly BootstrapToken Token = new(Guid.NewGuid(), "cgb_token-value", Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow.AddHours(1));

    private static string Render() => new InstallManifest(Options.Create(new AgentApiOptions())).Render(Token, "https://portal.example");

    [Fact]
    public void The_manifest_carries_the_bootstrap_token_only_in_its_secret()
    {
        var yaml = Render();

        Assert.Equal(1, yaml.Split("cgb_token-value").Length - 1);
        Assert.Contains("kind: Secret\nmetadata:\n  name: cogrion-agent-bootstrap", yaml.ReplaceLineEndings("\n"));
        Assert.Contains("secretKeyRef:", yaml);
    }

    [Fact]
    public void The_manifest_grants_no_wildcard_and_no_cluster_admin()
    {
        var yaml = Render();

        Assert.DoesNotContain("\"*\"", yaml);
        Assert.DoesNotContain("cluster-admin", yaml);
        Assert.Contains("verbs: [\"bind\"]", yaml);
        Assert.Contains("resourceNames: [\"cogrion-agent-workload\"]", yaml);
    }

    [Fact]
    public void The_agent_runs_restricted_in_a_restricted_namespace()
    {
        var yaml = Render();

        Assert.Contains("pod-security.kubernetes.io/enforce: restricted", yaml);
        Assert.Contains("runAsNonRoot: true", yaml);
        Assert.Contains("readOnlyRootFilesystem: true", yaml);
        Assert.Contains("drop: [\"ALL\"]", yaml);
        Assert.Contains("\"https://portal.example\"", yaml);
    }

    [Fact]
    public void Every_document_names_its_kind()
    {
        var documents = Render().Split("\n---\n");

        // Namespace, ServiceAccount, Secret, two ClusterRoles, ClusterRoleBinding, Role, RoleBinding, Deployment.
        Assert.Equal(9, documents.Length);
        Assert.All(documents, d => Assert.Contains("\nkind: ", "\n" + d));
    }
}
