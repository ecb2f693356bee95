using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Sandbox;

/// <summary>
/// The Cluster Agent part of a simulated workspace, read from the module itself: the called module's
/// ../modules/cluster-agent/install.yaml.tftpl, rendered with the module call's inputs as its
/// main.tf renders it, one <c>kubectl_manifest</c> per document under the same resource names and
/// keys (namespace, access, bootstrap_token, agent), with the same ignore rules (the bootstrap
/// Secret is written once; the Deployment's image is the agent's after install). A changed template
/// changes what the sandbox installs: that is what makes the sandbox a test of the real install.
/// </summary>
public static class ClusterAgentInstall
{
    public const string Module = SandboxStack.Root + ".module.cluster_agent";
    private const string ResourceType = "kubectl_manifest";

    public static string TemplatePath(string moduleSource) =>
        Path.GetFullPath(Path.Combine(moduleSource, "..", "modules", "cluster-agent", InstallTemplate.FileName));

    /// <summary>The install's objects as the cluster gets them (the SA bound to the workspace's IRSA role, as terraform/aws/agent.tf binds
    /// it).</summary>
    public static IReadOnlyList<JsonObject> Objects(JsonObject variables, string moduleSource)
    {
        var path = TemplatePath(moduleSource);
        if (!File.Exists(path))
            throw new SandboxError(Diagnostic.Error("Invalid function argument",
                $"Invalid value for \"path\" parameter: no file exists at \"{path}\"; this function works only with files that are distributed as " +
                    $"part of the configuration source code.",
                file: "../modules/cluster-agent/main.tf", line: 24));
        var values = InstallTemplate.Values(
            Guid.TryParse(SandboxStack.Text(variables, "tenant_id"), out var tenant) ? tenant : Guid.Empty,
            Guid.TryParse(SandboxStack.Text(variables, "workspace_id"), out var workspace) ? workspace : Guid.Empty,
            SandboxStack.Text(variables, "agent_image") ?? "",
            SandboxStack.Text(variables, "portal_url") ?? "",
            SandboxStack.Text(variables, "agent_bootstrap_token") ?? "");
        string rendered;
        try
        {
            rendered = InstallTemplate.Render(File.ReadAllText(path), values);
        }
        catch (InvalidOperationException ex)
        {
            throw new SandboxError(Diagnostic.Error("Error in function call", $"Call to function \"templatefile\" failed: {ex.Message}",
                file: "../modules/cluster-agent/main.tf", line: 24));
        }
        var name = SandboxStack.Text(variables, "workspace_name") ?? "sandbox";
        var objects = new List<JsonObject>();
        foreach (var document in InstallTemplate.SplitDocuments(rendered))
        {
            JsonObject parsed;
            try
            {
                parsed = YamlDocuments.Parse(document);
            }
            catch (Exception ex) when (ex is FormatException or YamlDotNet.Core.YamlException)
            {
                throw new SandboxError(Diagnostic.Error("Error in function call", $"Call to function \"yamldecode\" failed: {ex.Message}",
                    file: "../modules/cluster-agent/main.tf", line: 24));
            }
            // As the module does: the cloud role's annotation goes on the service account the agent's pod runs as only.
            if (parsed["kind"]?.GetValue<string>() == "ServiceAccount"
                && parsed["metadata"]?["name"]?.GetValue<string>() == AgentInstall.ServiceAccount)
                parsed["metadata"]!["annotations"] = new JsonObject
                {
                    ["eks.amazonaws.com/role-arn"] = $"arn:aws:iam::123456789012:role/{name}-cluster-agent",
                };
            objects.Add(parsed);
        }
        return objects;
    }

    public static string Key(JsonObject o) => $"{o["kind"]}/{o["metadata"]?["namespace"]?.GetValue<string>() ?? ""}/{o["metadata"]?["name"]}";

    /// <summary>The module's resources, waves after the cluster and its nodes (the module depends on them).</summary>
    public static IReadOnlyList<SimResource> Resources(JsonObject variables, string moduleSource)
    {
        var resources = new List<SimResource>();
        foreach (var o in Objects(variables, moduleSource))
        {
            var kind = o["kind"]?.GetValue<string>() ?? "";
            var (name, wave) = kind switch
            {
                "Namespace" => ("namespace", 6),
                "Secret" => ("bootstrap_token", 7),
                "Deployment" => ("agent", 8),
                _ => ("access", 7),
            };
            var attributes = new JsonObject
            {
                ["api_version"] = o["apiVersion"]?.DeepClone(),
                ["kind"] = kind,
                ["name"] = o["metadata"]?["name"]?.DeepClone(),
                ["namespace"] = o["metadata"]?["namespace"]?.DeepClone(),
            };
            // ignore_changes = [yaml_body] on the bootstrap Secret: its body (the token) is not compared.
            if (kind != "Secret") attributes["yaml_body"] = Comparable(o).ToJsonString();
            resources.Add(new SimResource(Module, ResourceType, name, kind == "Secret" ? null : JsonValue.Create(Key(o)), wave, kind == "Deployment"
                ? 3 : 1,
                attributes, SensitiveAttributes: kind == "Secret" ? ["yaml_body"] : null));
        }
        return resources;
    }

    /// <summary>What a plan compares: the Deployment's image is ignored (ignore_fields), the agent owns it after install.</summary>
    private static JsonObject Comparable(JsonObject o)
    {
        var copy = (JsonObject)o.DeepClone();
        if (copy["kind"]?.GetValue<string>() == "Deployment" && copy["spec"]?["template"]?["spec"]?["containers"] is JsonArray containers
            && containers.Count > 0)
            (containers[0] as JsonObject)?.Remove("image");
        return copy;
    }

    /// <summary>The object a resource stands for, for the apply; an update leaves the Deployment's image as the agent set it.</summary>
    public static JsonObject? ObjectFor(SimResource resource, JsonObject variables, string moduleSource, bool update)
    {
        if (resource.Module != Module || resource.Type != ResourceType) return null;
        var objects = Objects(variables, moduleSource);
        var o = resource.Name == "bootstrap_token"
            ? objects.FirstOrDefault(x => x["kind"]?.GetValue<string>() == "Secret")
            : objects.FirstOrDefault(x => Key(x) == resource.Key?.GetValue<string>());
        return o is not null && update && o["kind"]?.GetValue<string>() == "Deployment" ? Comparable(o) : o;
    }
}
