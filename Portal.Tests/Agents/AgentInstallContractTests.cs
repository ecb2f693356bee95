using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Workspaces.Modules;
using Cogrion.Sandbox;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// The agent and its install agree: the one template (terraform/modules/cluster-agent/install.yaml.tftpl)
/// uses every name the agent relies on (AgentInstall), grants what it needs and nothing of a wildcard,
/// and the module renders it with the variables the Portal and the sandbox render it with, under the
/// resource names and ignore rules the sandbox simulates.
/// </summary>
public sealed class AgentInstallContractTests
{
    private static readonly Guid Tenant = Guid.NewGuid();
    private static readonly Guid Workspace = Guid.NewGuid();

    private static IReadOnlyList<JsonObject> Objects()
    {
        var rendered = InstallTemplate.Render(File.ReadAllText(AgentProcess.TemplatePath),
            InstallTemplate.Values(Tenant, Workspace, $"{AgentInstall.ImageRepository}:1.2.3", "https://portal.example", "cgb_token"));
        return InstallTemplate.SplitDocuments(rendered).Select(YamlDocuments.Parse).ToList();
    }

    private static JsonObject Single(string kind, string name) =>
        Assert.Single(Objects(), o => o["kind"]?.GetValue<string>() == kind && o["metadata"]?["name"]?.GetValue<string>() == name);

    private static IEnumerable<JsonObject> Rules(JsonObject role) => (role["rules"] as JsonArray ?? []).OfType<JsonObject>();

    private static List<string> Strings(JsonNode? list) => (list as JsonArray ?? []).Select(v => v!.GetValue<string>()).ToList();

    private static JsonObject Container() =>
        (JsonObject)Single("Deployment", AgentInstall.Deployment)["spec"]!["template"]!["spec"]!["containers"]!.AsArray()
            .Single(c => c!["name"]!.GetValue<string>() == AgentInstall.Container)!;

    [Fact]
    public void The_agent_lives_where_it_looks_for_itself()
    {
        Assert.Equal(AgentInstall.Namespace, Single("Namespace", AgentInstall.Namespace)["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(AgentInstall.Namespace, Single("ServiceAccount", AgentInstall.ServiceAccount)["metadata"]!["namespace"]!.GetValue<string>());
        var deployment = Single("Deployment", AgentInstall.Deployment);
        Assert.Equal(AgentInstall.ServiceAccount, deployment["spec"]!["template"]!["spec"]!["serviceAccountName"]!.GetValue<string>());
        Assert.Equal(AgentInstall.NameLabelValue,
            deployment["spec"]!["template"]!["metadata"]!["labels"]![AgentInstall.NameLabel]!.GetValue<string>());
    }

    [Fact]
    public void The_bootstrap_token_is_mounted_where_the_setting_the_agent_binds_says()
    {
        var container = Container();
        var env = container["env"]!.AsArray().OfType<JsonObject>().ToDictionary(e => e["name"]!.GetValue<string>());
        Assert.Equal(AgentInstall.BootstrapTokenFile, env[AgentInstall.BootstrapTokenFileVariable]["value"]!.GetValue<string>());
        Assert.Equal("https://portal.example", env[AgentInstall.PortalUrlVariable]["value"]!.GetValue<string>());
        Assert.Equal("status.podIP", env[AgentInstall.HealthAddressVariable]["valueFrom"]!["fieldRef"]!["fieldPath"]!.GetValue<string>());
        var mount = container["volumeMounts"]!.AsArray().OfType<JsonObject>()
            .Single(m => m["mountPath"]!.GetValue<string>() == AgentInstall.BootstrapTokenDirectory);
        var volume = Single("Deployment", AgentInstall.Deployment)["spec"]!["template"]!["spec"]!["volumes"]!.AsArray().OfType<JsonObject>()
            .Single(v => v["name"]!.GetValue<string>() == mount["name"]!.GetValue<string>());
        Assert.Equal(AgentInstall.BootstrapSecret, volume["secret"]!["secretName"]!.GetValue<string>());
        Assert.Equal("cgb_token", Single("Secret", AgentInstall.BootstrapSecret)["stringData"]![AgentInstall.BootstrapSecretKey]!.GetValue<string>());
        // The agent binds exactly these names (configuration keys are "Agent:<property>").
        Assert.Equal($"{Cogrion.Agent.AgentOptions.Section}__{nameof(Cogrion.Agent.AgentOptions.BootstrapTokenFile)}",
            AgentInstall.BootstrapTokenFileVariable);
        Assert.Equal($"{Cogrion.Agent.AgentOptions.Section}__{nameof(Cogrion.Agent.AgentOptions.PortalUrl)}", AgentInstall.PortalUrlVariable);
        Assert.Equal($"{Cogrion.Agent.AgentOptions.Section}__{nameof(Cogrion.Agent.AgentOptions.HealthAddress)}", AgentInstall.HealthAddressVariable);
    }

    [Fact]
    public void In_its_namespace_the_agent_may_keep_its_state_secret_read_its_pods_and_patch_its_own_deployment_only()
    {
        var self = Single("Role", AgentInstall.SelfRole);
        Assert.Contains(Rules(self), r => Strings(r["resources"]).SequenceEqual(["secrets"]) && Strings(r["resourceNames"])
            .SequenceEqual([AgentInstall.StateSecret])
            && new[] { "get", "patch", "delete" }.All(Strings(r["verbs"]).Contains));
        Assert.Contains(Rules(self), r => Strings(r["resources"]).SequenceEqual(["deployments"]) && Strings(r["resourceNames"])
            .SequenceEqual([AgentInstall.Deployment])
            && Strings(r["verbs"]).Order().SequenceEqual(["get", "patch"]));
        Assert.Contains(Rules(self), r => Strings(r["resources"]).SequenceEqual(["pods"]) && Strings(r["verbs"]).Order()
            .SequenceEqual(["get", "list"]));
        var binding = Single("RoleBinding", AgentInstall.SelfRoleBinding);
        Assert.Equal(AgentInstall.SelfRole, binding["roleRef"]!["name"]!.GetValue<string>());
        Assert.Equal(AgentInstall.ServiceAccount, binding["subjects"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Cluster_wide_the_agent_may_bind_only_the_workload_role_the_install_defines()
    {
        var cluster = Single("ClusterRole", AgentInstall.ClusterRole);
        var bind = Assert.Single(Rules(cluster), r => Strings(r["verbs"]).Contains("bind"));
        Assert.Equal([AgentInstall.WorkloadClusterRole], Strings(bind["resourceNames"]));
        Single("ClusterRole", AgentInstall.WorkloadClusterRole);
        Assert.Equal(AgentInstall.ClusterRole, Single("ClusterRoleBinding", AgentInstall.ClusterRoleBinding)["roleRef"]!["name"]!.GetValue<string>());
        Assert.DoesNotContain(Objects().SelectMany(o => Rules(o)), r => Strings(r["verbs"]).Contains("*") || Strings(r["resources"]).Contains("*")
            || Strings(r["apiGroups"]).Contains("*"));
    }

    [Fact]
    public void Support_reads_act_as_a_reader_that_holds_no_right_on_secrets_or_config_maps()
    {
        var impersonate = Assert.Single(Rules(Single("ClusterRole", AgentInstall.ClusterRole)), r => Strings(r["verbs"]).Contains("impersonate"));
        Assert.Equal(["serviceaccounts"], Strings(impersonate["resources"]));
        Assert.Equal([AgentInstall.SupportReader], Strings(impersonate["resourceNames"]));
        var reader = Single("ServiceAccount", AgentInstall.SupportReader);
        Assert.Equal(AgentInstall.Namespace, reader["metadata"]!["namespace"]!.GetValue<string>());
        Assert.False(reader["automountServiceAccountToken"]!.GetValue<bool>());
        var binding = Single("ClusterRoleBinding", AgentInstall.SupportReader);
        Assert.Equal(AgentInstall.SupportReader, binding["roleRef"]!["name"]!.GetValue<string>());
        Assert.Equal(AgentInstall.SupportReaderUser,
            $"system:serviceaccount:{binding["subjects"]![0]!["namespace"]}:{binding["subjects"]![0]!["name"]}");
        var rules = Rules(Single("ClusterRole", AgentInstall.SupportReader)).ToList();
        Assert.All(rules, r => Assert.Equal(["get", "list"], Strings(r["verbs"])));
        Assert.DoesNotContain(rules.SelectMany(r => Strings(r["resources"])), r => r is "secrets" or "configmaps");
    }

    [Fact]
    public void The_rollout_keeps_the_old_agent_until_the_new_one_is_ready()
    {
        var spec = Single("Deployment", AgentInstall.Deployment)["spec"]!;
        Assert.Equal("RollingUpdate", spec["strategy"]!["type"]!.GetValue<string>());
        Assert.Equal(0, spec["strategy"]!["rollingUpdate"]!["maxUnavailable"]!.GetValue<long>());
        var container = Container();
        Assert.Equal(AgentInstall.ReadinessPath, container["readinessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal(AgentInstall.HealthPortName, container["readinessProbe"]!["httpGet"]!["port"]!.GetValue<string>());
        Assert.Contains(container["ports"]!.AsArray(), p => p!["name"]!.GetValue<string>() == AgentInstall.HealthPortName
            && p["containerPort"]!.GetValue<long>() == AgentInstall.HealthPort);
        Assert.Equal($"{AgentInstall.ImageRepository}:1.2.3", container["image"]!.GetValue<string>());
    }

    /// <summary>Spelled in two parts, so this file does not find itself.</summary>
    private static readonly string MovingTag = "portal-agent" + ":latest";

    [Fact]
    public void No_image_anywhere_is_latest()
    {
        foreach (var file in Directory.EnumerateFiles(RepoPaths.Root, "*", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
                         && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                         && !f.Contains("node_modules") && !f.Contains($"{Path.DirectorySeparatorChar}.git{Path.DirectorySeparatorChar}")
                             && !f.Contains($"{Path.DirectorySeparatorChar}.local{Path.DirectorySeparatorChar}")
                         && !f.Contains($"{Path.DirectorySeparatorChar}artifacts{Path.DirectorySeparatorChar}")
                         && (f.EndsWith(".cs") || f.EndsWith(".json") || f.EndsWith(".tf") || f.EndsWith(".tftpl") || f.EndsWith(".md")
                             || f.EndsWith(".yaml") || f.EndsWith(".sh") || f.EndsWith("Dockerfile"))))
        {
            var text = File.ReadAllText(file);
            Assert.False(text.Contains(MovingTag, StringComparison.Ordinal), $"{file} names the agent image by 'latest'.");
        }
    }

    [Fact]
    public async Task The_module_renders_the_template_with_the_variables_the_portal_and_the_sandbox_use_under_the_names_the_sandbox_simulates()
    {
        var module = await OpenTofuModule.LoadAsync("modules/cluster-agent");
        var locals = module.Document.GetProperty("locals")[0];

        // tenant_id, workspace_id, image, portal_url from the module's inputs; bootstrap_token added per render.
        var values = locals.GetProperty("install_values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal(InstallTemplate.Variables.Where(v => v != "bootstrap_token").Order(), values.Keys.Order());
        Assert.All(values.Values, v => Assert.StartsWith("${jsonencode(var.", v));
        Assert.Contains("bootstrap_token = jsonencode(var.bootstrap_token)", locals.GetProperty("bootstrap_secret").GetString());
        Assert.Contains("templatefile(\"${path.module}/install.yaml.tftpl\"", locals.GetProperty("bootstrap_secret").GetString());

        var resources = module.Document.GetProperty("resource").GetProperty("kubectl_manifest");
        Assert.Equal(["access", "agent", "bootstrap_token", "namespace"], resources.EnumerateObject().Select(r => r.Name).Order());
        // The sandbox honours the same ignore rules: the token Secret is written once, the image is the agent's after install.
        Assert.Contains("yaml_body", resources.GetProperty("bootstrap_token")[0].GetProperty("lifecycle")[0].GetProperty("ignore_changes")
            .GetRawText());
        Assert.Contains("spec.template.spec.containers.0.image", resources.GetProperty("agent")[0].GetProperty("ignore_fields").GetRawText());
    }
}
