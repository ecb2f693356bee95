using System.Text.Json.Nodes;
using Cogrion.Sandbox.Cluster.Store;

namespace Cogrion.Sandbox.Cluster.Runtime;

/// <summary>
/// Flux's controllers in the simulated cluster. The workspace stack installs them (terraform/modules/flux: the flux2
/// chart's Deployments of ghcr.io/fluxcd/source-controller and ghcr.io/fluxcd/helm-controller); the node runs their
/// pods without a process (<see cref="Kubelet"/>: these images are part of the simulated cluster, as the agent's
/// image maps to an agent build), and <see cref="HelmController"/> does their work only while such a Deployment is
/// available. A cluster without Flux leaves HelmRepositories and HelmReleases as written, without status, as a real
/// one does.
/// </summary>
public static class FluxControllers
{
    public const string SourceControllerImage = "ghcr.io/fluxcd/source-controller";
    public const string HelmControllerImage = "ghcr.io/fluxcd/helm-controller";

    /// <summary>Image repositories the simulated node runs in-process (any tag or digest).</summary>
    public static readonly IReadOnlyList<string> Images = [SourceControllerImage, HelmControllerImage];

    /// <summary>The repository part of an image reference ("ghcr.io/fluxcd/helm-controller" of "...:v1.5.3" or "...@sha256:...").</summary>
    public static string Repository(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0) image = image[..at];
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? image[..colon] : image;
    }

    public static bool IsBuiltIn(string image) => Images.Contains(Repository(image));

    /// <summary>Whether a Deployment running <paramref name="imageRepository"/> has an available replica, anywhere in the cluster.</summary>
    public static bool Available(ObjectStore store, string imageRepository) =>
        store.List(ResourceTypes.Deployment, null).Any(d =>
            (d["spec"]?["template"]?["spec"]?["containers"] as JsonArray ?? []).OfType<JsonObject>()
                .Any(c => c["image"] is JsonValue image && image.TryGetValue<string>(out var text) && Repository(text) == imageRepository)
            && (ObjectStore.Number(d["status"]?["availableReplicas"]) ?? 0) >= 1);
}
