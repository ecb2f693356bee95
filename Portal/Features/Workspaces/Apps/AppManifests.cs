using System.Globalization;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>
/// What the agent applies for an app: its namespace (quota, default-deny, the app's Pod Security level),
/// then a Flux HelmRepository and HelmRelease (source.toolkit.fluxcd.io/v1, helm.toolkit.fluxcd.io/v2)
/// with install and upgrade remediation (retries; an upgrade rolls back), drift detection and history.
/// The values are the non-secret ones; a secret would come through valuesFrom, never here.
/// </summary>
public static class AppManifests
{
    /// <summary>Carried on the HelmRelease so a report can be matched to the desired revision it shows.</summary>
    public const string RevisionAnnotation = "cogrion.io/revision";
    public const int RemediationRetries = 3;
    public const int MaxHistory = 10;

    public static EnsureNamespacePayload Namespace(CatalogApp app, string ns) => new(ns, app.Id, app.Resources.Cpu, app.Resources.Memory,
        app.Resources.Pods, app.PodSecurity == PodSecurityLevel.Restricted ? "restricted" : "baseline");

    public static ApplyManifestPayload Release(CatalogApp app, string ns, string chartVersion, JsonObject values, int revision) => new(
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
                ["annotations"] = new JsonObject { [RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture) },
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
                ["values"] = values.DeepClone(),
            },
        },
    ]);
}
