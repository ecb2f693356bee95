using System.Globalization;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>
/// What the agent applies for an app: its namespace (quota, default-deny, the app's Pod Security level),
/// then a Flux HelmRepository and HelmRelease (source.toolkit.fluxcd.io/v1, helm.toolkit.fluxcd.io/v2)
/// with install and upgrade remediation (retries; an upgrade rolls back), drift detection and history.
/// The values are the non-secret ones; each secret value the app has been given comes from its own
/// Kubernetes Secret through valuesFrom (targetPath = the chart's option name), never from here.
/// </summary>
public static class AppManifests
{
    /// <summary>Carried on the HelmRelease so a report can be matched to the desired revision it shows.</summary>
    public const string RevisionAnnotation = "cogrion.io/revision";
    public const int RemediationRetries = 3;
    public const int MaxHistory = 10;

    /// <summary>
    /// Flux's "reconcile now" annotation. A new revision that only rotates a secret value leaves the spec as it was
    /// (valuesFrom names the Secret, not its content), so the generation does not move; this makes helm-controller
    /// reconcile, compose the values again and upgrade when their digest changed.
    /// </summary>
    public const string RequestedAtAnnotation = "reconcile.fluxcd.io/requestedAt";

    public static EnsureNamespacePayload Namespace(CatalogApp app, string ns) => new(ns, app.Id, app.Resources.Cpu, app.Resources.Memory,
        app.Resources.Pods, app.PodSecurity == PodSecurityLevel.Restricted ? "restricted" : "baseline");

    public static ApplyManifestPayload Release(CatalogApp app, string ns, string chartVersion, JsonObject values, int revision,
        IReadOnlyCollection<string> secretPaths, DateTimeOffset requestedAt) => new(
    [
        new JsonObject
        {
            ["apiVersion"] = "source.toolkit.fluxcd.io/v1",
            ["kind"] = "HelmRepository",
            ["metadata"] = new JsonObject { ["name"] = app.Id, ["namespace"] = ns },
            ["spec"] = new JsonObject { ["interval"] = "1h", ["url"] = app.Chart.Repository },
        },
        new JsonObject
        {
            ["apiVersion"] = "helm.toolkit.fluxcd.io/v2",
            ["kind"] = "HelmRelease",
            ["metadata"] = new JsonObject
            {
                ["name"] = app.Id,
                ["namespace"] = ns,
                ["annotations"] = new JsonObject
                {
                    [RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture),
                    [RequestedAtAnnotation] = requestedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                },
            },
            ["spec"] = new JsonObject
            {
                ["interval"] = "10m",
                ["timeout"] = "10m",
                ["releaseName"] = app.Id,
                ["chart"] = new JsonObject
                {
                    ["spec"] = new JsonObject
                    {
                        ["chart"] = app.Chart.Name,
                        ["version"] = chartVersion,
                        ["sourceRef"] = new JsonObject { ["kind"] = "HelmRepository", ["name"] = app.Id },
                        ["interval"] = "1h",
                    },
                },
                ["install"] = new JsonObject { ["remediation"] = new JsonObject { ["retries"] = RemediationRetries } },
                ["upgrade"] = new JsonObject
                {
                    ["cleanupOnFail"] = true,
                    ["remediation"] = new JsonObject { ["retries"] = RemediationRetries, ["strategy"] = "rollback", ["remediateLastFailure"] = true },
                },
                ["rollback"] = new JsonObject { ["cleanupOnFail"] = true },
                ["driftDetection"] = new JsonObject { ["mode"] = "enabled" },
                ["maxHistory"] = MaxHistory,
                ["valuesFrom"] = new JsonArray(app.SecretFields.Where(f => secretPaths.Contains(f.Path)).Select(f => (JsonNode)new JsonObject
                {
                    ["kind"] = "Secret",
                    ["name"] = f.SecretName,
                    ["valuesKey"] = CatalogApp.SecretKey,
                    ["targetPath"] = f.Path,
                }).ToArray()),
                // spec.values is merged after valuesFrom and would win: a referenced secret's path must not be in it.
                ["values"] = Without(values, secretPaths),
            },
        },
    ]);

    private static JsonObject Without(JsonObject values, IReadOnlyCollection<string> paths)
    {
        var copy = (JsonObject)values.DeepClone();
        foreach (var path in paths)
        {
            var segments = path.Split('.');
            var parent = segments[..^1].Aggregate((JsonNode?)copy, (node, key) => node is JsonObject o ? o[key] : null) as JsonObject;
            parent?.Remove(segments[^1]);
        }
        return copy;
    }
}
