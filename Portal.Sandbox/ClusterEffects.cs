using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;
using k8s;
using KubernetesException = Cogrion.Kubernetes.KubernetesException;

namespace Cogrion.Sandbox;

/// <summary>
/// What applying a <c>kubectl_manifest</c> does in the sandbox: the object goes to the workspace's
/// simulated cluster, by server-side apply over HTTPS as the cluster's admin (the kubeconfig the
/// cluster writes next to the workspace's state, as the cloud hands the cluster's creator one), the way
/// the OpenTofu provider applies it. Everything else in the simulated stack has no effect outside the state.
/// </summary>
public sealed class ClusterEffects(JsonObject variables, string moduleSource, string statePath)
{
    /// <summary>The workspace's cluster lives next to its state, as the rest of its simulated cloud does.</summary>
    public static string ClusterDirectory(string statePath) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(statePath))!, "cluster");

    public async Task<Diagnostic?> ApplyAsync(SimResource resource, string action, CancellationToken cancellationToken)
    {
        if (resource.Module == FluxInstall.Module) return await ApplyFluxAsync(resource, action, cancellationToken);
        if (resource.Module != ClusterAgentInstall.Module) return null;
        try
        {
            if (action == "delete")
            {
                var reference = new ObjectReference(resource.Attributes["api_version"]?.GetValue<string>() ?? "v1",
                    resource.Attributes["kind"]?.GetValue<string>() ?? "",
                    resource.Attributes["name"]?.GetValue<string>() ?? "", resource.Attributes["namespace"]?.GetValue<string>());
                using var client = Connect();
                await client.DeleteAsync(reference, cancellationToken);
                return null;
            }
            var manifest = ClusterAgentInstall.ObjectFor(resource, variables, moduleSource, update: action == "update");
            if (manifest is null) return null;
            using (var client = Connect())
                await client.ApplyAsync(manifest, cancellationToken);
            return null;
        }
        catch (KubernetesException ex)
        {
            return Diagnostic.Error($"{resource.Attributes["kind"]} {resource.Attributes["name"]} failed to run apply: {ex.Message}", "",
                resource.Address, "../modules/cluster-agent/main.tf", 45);
        }
    }

    /// <summary>
    /// helm_release.flux: what the flux2 chart renders for the module's values (<see cref="FluxInstall"/>), applied
    /// server-side as Helm's install or upgrade would leave it; an uninstall removes the release's objects but keeps
    /// the CRDs (values.yaml: helm.sh/resource-policy keep) and the namespace (create_namespace makes it outside the release).
    /// </summary>
    private async Task<Diagnostic?> ApplyFluxAsync(SimResource resource, string action, CancellationToken cancellationToken)
    {
        var current = "";
        try
        {
            var objects = FluxInstall.Objects(variables, moduleSource);
            using var client = Connect();
            if (action == "delete")
            {
                foreach (var o in objects.AsEnumerable().Reverse().Where(o => Kind(o) is not ("CustomResourceDefinition" or "Namespace")))
                {
                    current = FluxInstall.Key(o);
                    await client.DeleteAsync(new ObjectReference(o["apiVersion"]!.GetValue<string>(), Kind(o),
                        o["metadata"]!["name"]!.GetValue<string>(), o["metadata"]?["namespace"]?.GetValue<string>()), cancellationToken);
                }
                return null;
            }
            foreach (var o in objects)
            {
                current = FluxInstall.Key(o);
                await client.ApplyAsync(o, cancellationToken);
            }
            return null;
        }
        catch (KubernetesException ex)
        {
            return Diagnostic.Error($"Error: {(action == "delete" ? "uninstall" : "installation")} failed: {current}: {ex.Message}", "",
                resource.Address, "../modules/flux/main.tf", 22);
        }
    }

    private static string Kind(JsonObject o) => o["kind"]?.GetValue<string>() ?? "";

    private KubernetesClient Connect()
    {
        var kubeconfig = Path.Combine(ClusterDirectory(statePath), "kubeconfig");
        if (!File.Exists(kubeconfig))
            throw new KubernetesException(0,
                $"failed to create kubernetes rest client: the workspace's cluster is not running ({kubeconfig} does not exist); the Portal starts " +
                $"it for sandbox runs");
        var configuration = k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        return new KubernetesClient(configuration, fieldManager: "opentofu", moreKinds: [FluxInstall.CustomResourceDefinition]);
    }
}
