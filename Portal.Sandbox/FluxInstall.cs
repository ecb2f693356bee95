using System.Text.Json.Nodes;
using Cogrion.Kubernetes;

namespace Cogrion.Sandbox;

/// <summary>
/// Flux's part of a simulated workspace, read from the module itself: terraform/modules/flux's chart.json (the
/// fluxcd-community flux2 chart, pinned) and values.yaml, the two files its main.tf gives helm_release. The sandbox has
/// no Helm to render the chart with, so it installs what that chart renders for those values (Helm's labels, the
/// chart's object names): the namespace, the CRDs of each enabled controller (names, group, kinds, served versions;
/// their OpenAPI schemas are not simulated), the controllers' service accounts, the crd-controller ClusterRole and its
/// binding, cluster-reconciler, source-controller's Service, the Deployments with the images and resources values.yaml
/// pins, and the chart's network policies. The simulated cluster runs those images itself and does their work while
/// their Deployments are available (Portal.Sandbox.Cluster FluxControllers). A changed values.yaml (a new tag, a
/// controller turned off) changes what the sandbox installs.
/// </summary>
public static class FluxInstall
{
    public const string Module = SandboxStack.Root + ".module.flux";
    public const string ChartFile = "chart.json";
    public const string ValuesFile = "values.yaml";

    /// <summary>
    /// The kind the chart installs that the agent's client does not know (its RBAC grants no CRD right, ResourceKinds leaves it
    /// out): the sandbox passes it to the client it installs Flux with, as helm_release installs the CRDs with the cluster's admin.
    /// </summary>
    public static readonly ResourceKind CustomResourceDefinition = new("apiextensions.k8s.io/v1", "CustomResourceDefinition",
        "customresourcedefinitions", false);

    /// <summary>The CRDs each controller's part of the chart installs (group, kind, plural, served versions, storage last).</summary>
    private static readonly (string Controller, string Group, string Kind, string Plural, string[] Versions)[] Crds =
    [
        ("sourceController", "source.toolkit.fluxcd.io", "Bucket", "buckets", ["v1beta2", "v1"]),
        ("sourceController", "source.toolkit.fluxcd.io", "ExternalArtifact", "externalartifacts", ["v1"]),
        ("sourceController", "source.toolkit.fluxcd.io", "GitRepository", "gitrepositories", ["v1beta2", "v1"]),
        ("sourceController", "source.toolkit.fluxcd.io", "HelmChart", "helmcharts", ["v1beta2", "v1"]),
        ("sourceController", "source.toolkit.fluxcd.io", "HelmRepository", "helmrepositories", ["v1beta2", "v1"]),
        ("sourceController", "source.toolkit.fluxcd.io", "OCIRepository", "ocirepositories", ["v1beta2", "v1"]),
        ("helmController", "helm.toolkit.fluxcd.io", "HelmRelease", "helmreleases", ["v2beta2", "v2"]),
    ];

    public static string Directory(string moduleSource) => Path.GetFullPath(Path.Combine(moduleSource, "..", "modules", "flux"));

    /// <summary>chart.json and values.yaml as the module reads them; a missing file fails the plan as file() would.</summary>
    public static (JsonObject Chart, JsonObject Values, string ValuesText) Read(string moduleSource)
    {
        var directory = Directory(moduleSource);
        string Load(string name)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
                throw new SandboxError(Diagnostic.Error("Invalid function argument",
                    $"Invalid value for \"path\" parameter: no file exists at \"{path}\"; this function works only with files that are " +
                        $"distributed as part of the configuration source code.", file: "../modules/flux/main.tf", line: 11));
            return File.ReadAllText(path);
        }
        var chart = JsonNode.Parse(Load(ChartFile)) as JsonObject
            ?? throw new SandboxError(Diagnostic.Error("Error in function call", "Call to function \"jsondecode\" failed: not an object",
                file: "../modules/flux/main.tf", line: 11));
        var text = Load(ValuesFile);
        return (chart, YamlDocuments.Parse(text), text);
    }

    /// <summary>helm_release.flux: after the nodes (the run waits for the controllers), before the Cluster Agent's namespace.</summary>
    public static IReadOnlyList<SimResource> Resources(JsonObject variables, string moduleSource)
    {
        var (chart, _, text) = Read(moduleSource);
        var attributes = new JsonObject
        {
            ["name"] = "flux",
            ["namespace"] = Text(chart, "namespace"),
            ["repository"] = Text(chart, "repository"),
            ["chart"] = Text(chart, "chart"),
            ["version"] = Text(chart, "version"),
            ["values"] = new JsonArray(text, Labels(variables).ToJsonString()),
        };
        return [new SimResource(Module, "helm_release", "flux", null, 5, 45, attributes)];
    }

    /// <summary>What the chart renders for these values, in the order Helm installs kinds (namespace and CRDs first).</summary>
    public static IReadOnlyList<JsonObject> Objects(JsonObject variables, string moduleSource)
    {
        var (chart, values, _) = Read(moduleSource);
        var ns = Text(chart, "namespace") ?? "flux-system";
        var chartLabel = $"{Text(chart, "chart")}-{Text(chart, "version")}";
        JsonObject Labels() => new()
        {
            ["app.kubernetes.io/instance"] = ns,
            ["app.kubernetes.io/managed-by"] = "Helm",
            ["app.kubernetes.io/version"] = Text(chart, "appVersion"),
            ["app.kubernetes.io/part-of"] = "flux",
            ["helm.sh/chart"] = chartLabel,
        };
        bool Enabled(string controller) => values[controller]?["create"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.True;
        var controllers = new[] { ("sourceController", "source-controller"), ("helmController", "helm-controller") }
            .Where(c => Enabled(c.Item1)).ToList();
        var objects = new List<JsonObject>
        {
            new() { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } },
        };
        if (values["installCRDs"] is JsonValue crds && crds.GetValueKind() == System.Text.Json.JsonValueKind.True)
            foreach (var crd in Crds.Where(c => Enabled(c.Controller)))
            {
                var metadata = new JsonObject { ["name"] = $"{crd.Plural}.{crd.Group}", ["labels"] = Labels() };
                if (values["crds"]?["annotations"] is JsonObject annotations
                    && annotations.Count > 0) metadata["annotations"] = annotations.DeepClone();
                objects.Add(new JsonObject
                {
                    ["apiVersion"] = "apiextensions.k8s.io/v1",
                    ["kind"] = "CustomResourceDefinition",
                    ["metadata"] = metadata,
                    ["spec"] = new JsonObject
                    {
                        ["group"] = crd.Group,
                        ["names"] = new JsonObject
                        {
                            ["kind"] = crd.Kind,
                            ["listKind"] = crd.Kind + "List",
                            ["plural"] = crd.Plural,
                            ["singular"] = crd.Kind.ToLowerInvariant(),
                        },
                        ["scope"] = "Namespaced",
                        ["versions"] = new JsonArray(crd.Versions.Select((v, i) => (JsonNode)new JsonObject
                        {
                            ["name"] = v,
                            ["served"] = true,
                            ["storage"] = i == crd.Versions.Length - 1,
                            ["subresources"] = new JsonObject { ["status"] = new JsonObject() },
                            ["schema"] = new JsonObject
                            {
                                ["openAPIV3Schema"] = new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true },
                            },
                        }).ToArray()),
                    },
                });
            }
        foreach (var (_, name) in controllers)
            objects.Add(new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "ServiceAccount",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = Labels() },
            });
        if (values["rbac"]?["create"] is JsonValue rbac && rbac.GetValueKind() == System.Text.Json.JsonValueKind.True)
        {
            objects.Add(new JsonObject
            {
                ["apiVersion"] = "rbac.authorization.k8s.io/v1",
                ["kind"] = "ClusterRole",
                ["metadata"] = new JsonObject { ["name"] = "crd-controller", ["labels"] = Labels() },
                ["rules"] = new JsonArray(
                    Rule(["source.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io"], ["*"], ["*"]),
                    Rule([""], ["namespaces", "secrets", "configmaps", "serviceaccounts"], ["get", "list", "watch"]),
                    Rule([""], ["events"], ["create", "patch"]),
                    Rule(["coordination.k8s.io"], ["leases"], ["*"])),
            });
            // The chart names every controller's account in its bindings, whether or not that controller is created.
            objects.Add(Binding("crd-controller", "crd-controller", ns, ["kustomize-controller", "helm-controller", "source-controller",
                "notification-controller", "image-reflector-controller", "image-automation-controller", "source-watcher-controller"], Labels()));
            // helm-controller is bound to cluster-admin (multitenancy off, the chart's default): it installs whatever a chart contains.
            objects.Add(Binding("cluster-reconciler", values["rbac"]?["roleRef"]?["name"]?.GetValue<string>() ?? "cluster-admin", ns,
                ["kustomize-controller", "helm-controller"], Labels()));
        }
        if (Enabled("sourceController"))
            objects.Add(new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Service",
                ["metadata"] = new JsonObject { ["name"] = "source-controller", ["namespace"] = ns, ["labels"] = Labels() },
                ["spec"] = new JsonObject
                {
                    ["type"] = "ClusterIP",
                    ["selector"] = new JsonObject { ["app"] = "source-controller" },
                    ["ports"] = new JsonArray(new JsonObject { ["name"] = "http", ["port"] = 80, ["protocol"] = "TCP", ["targetPort"] = "http" }),
                },
            });
        foreach (var (key, name) in controllers)
            objects.Add(Deployment(values[key] as JsonObject ?? [], name, ns, Labels(), variables));
        if (values["policies"]?["create"] is JsonValue policies && policies.GetValueKind() == System.Text.Json.JsonValueKind.True)
        {
            objects.Add(Policy("allow-egress", ns, Labels(), new JsonObject(),
                ingress: new JsonArray(new JsonObject { ["from"] = new JsonArray(new JsonObject { ["podSelector"] = new JsonObject() }) }),
                egress: new JsonArray(new JsonObject())));
            objects.Add(Policy("allow-scraping", ns, Labels(), new JsonObject(), ingress: new JsonArray(new JsonObject
            {
                ["from"] = new JsonArray(new JsonObject { ["namespaceSelector"] = new JsonObject() }),
                ["ports"] = new JsonArray(new JsonObject { ["port"] = 8080, ["protocol"] = "TCP" }),
            })));
            objects.Add(Policy("allow-webhooks", ns, Labels(),
                new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "notification-controller" } },
                ingress: new JsonArray(new JsonObject { ["from"] = new JsonArray(new JsonObject { ["namespaceSelector"] = new JsonObject() }) })));
        }
        return objects;
    }

    public static string Key(JsonObject o) => ClusterAgentInstall.Key(o);

    private static JsonObject Deployment(JsonObject controller, string name, string ns, JsonObject labels, JsonObject variables)
    {
        labels["app.kubernetes.io/component"] = name;
        labels["control-plane"] = "controller";
        var podLabels = new JsonObject { ["app"] = name };
        // The module's extra labels (main.tf: helmController.labels / sourceController.labels).
        foreach (var (key, value) in Labels(variables)) podLabels[key] = value?.DeepClone();
        var ports = name == "source-controller"
            ? new JsonArray(Port("http", 9090), Port("http-prom", 8080), Port("healthz", 9440))
            : new JsonArray(Port("http-prom", 8080), Port("healthz", 9440));
        return new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = labels },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = podLabels },
                    ["spec"] = new JsonObject
                    {
                        ["serviceAccountName"] = name,
                        ["terminationGracePeriodSeconds"] = 600,
                        ["containers"] = new JsonArray(new JsonObject
                        {
                            ["name"] = "manager",
                            ["image"] = $"{Text(controller, "image")}:{Text(controller, "tag")}",
                            ["args"] = new JsonArray("--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json",
                                "--enable-leader-election"),
                            ["env"] = new JsonArray(new JsonObject
                            {
                                ["name"] = "RUNTIME_NAMESPACE",
                                ["valueFrom"] = new JsonObject { ["fieldRef"] = new JsonObject { ["fieldPath"] = "metadata.namespace" } },
                            }),
                            ["ports"] = ports,
                            ["readinessProbe"] = new JsonObject
                            {
                                ["httpGet"] = name == "source-controller"
                                    ? new JsonObject { ["path"] = "/", ["port"] = "http" }
                                    : new JsonObject { ["path"] = "/readyz", ["port"] = "healthz" },
                            },
                            ["resources"] = controller["resources"]?.DeepClone(),
                            ["securityContext"] = new JsonObject
                            {
                                ["allowPrivilegeEscalation"] = false,
                                ["capabilities"] = new JsonObject { ["drop"] = new JsonArray("ALL") },
                                ["readOnlyRootFilesystem"] = true,
                                ["runAsNonRoot"] = true,
                                ["seccompProfile"] = new JsonObject { ["type"] = "RuntimeDefault" },
                            },
                        }),
                    },
                },
            },
        };
    }

    /// <summary>The labels main.tf adds to the controllers' pods.</summary>
    private static JsonObject Labels(JsonObject variables) => new()
    {
        ["cogrion.io/tenant-id"] = SandboxStack.Text(variables, "tenant_id") ?? "",
        ["cogrion.io/workspace-id"] = SandboxStack.Text(variables, "workspace_id") ?? "",
    };

    private static JsonObject Port(string name, int port) => new() { ["name"] = name, ["containerPort"] = port, ["protocol"] = "TCP" };

    private static JsonObject Rule(string[] groups, string[] resources, string[] verbs) => new()
    {
        ["apiGroups"] = new JsonArray(groups.Select(g => (JsonNode)g).ToArray()),
        ["resources"] = new JsonArray(resources.Select(r => (JsonNode)r).ToArray()),
        ["verbs"] = new JsonArray(verbs.Select(v => (JsonNode)v).ToArray()),
    };

    private static JsonObject Binding(string name, string role, string ns, IEnumerable<string> accounts, JsonObject labels) => new()
    {
        ["apiVersion"] = "rbac.authorization.k8s.io/v1",
        ["kind"] = "ClusterRoleBinding",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels },
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "ClusterRole", ["name"] = role },
        ["subjects"] = new JsonArray(accounts.Select(a => (JsonNode)new JsonObject
        {
            ["kind"] = "ServiceAccount",
            ["name"] = a,
            ["namespace"] = ns,
        }).ToArray()),
    };

    private static JsonObject Policy(string name, string ns, JsonObject labels, JsonObject podSelector, JsonArray? ingress = null,
        JsonArray? egress = null)
    {
        var spec = new JsonObject { ["podSelector"] = podSelector };
        if (ingress is not null) spec["ingress"] = ingress;
        if (egress is not null) spec["egress"] = egress;
        spec["policyTypes"] = egress is null ? new JsonArray("Ingress") : new JsonArray("Ingress", "Egress");
        return new JsonObject
        {
            ["apiVersion"] = "networking.k8s.io/v1",
            ["kind"] = "NetworkPolicy",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = labels },
            ["spec"] = spec,
        };
    }

    private static string? Text(JsonObject o, string name) => SandboxStack.Text(o, name);
}
