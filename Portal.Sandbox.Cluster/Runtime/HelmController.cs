using System.Text.Json.Nodes;
using Cogrion.Sandbox.Cluster.Store;

namespace Cogrion.Sandbox.Cluster.Runtime;

/// <summary>A chart the simulated Helm repository serves: its versions and the workloads it renders.</summary>
public sealed record SimulatedChart(string Repository, string Name, IReadOnlyList<string> Versions,
    IReadOnlyList<(string Kind, string Name)> Workloads);

/// <summary>
/// Flux's source and helm controllers, as far as a catalog app needs them: a HelmRelease whose
/// HelmRepository serves the chart and version is installed or upgraded, its workloads appear
/// (Deployments and StatefulSets with Helm's labels) and become ready after <see cref="readyDelay"/>;
/// the status carries helm-controller's condition types and reasons (Ready, Released, Reconciling,
/// Remediated, Stalled; InstallSucceeded, UpgradeSucceeded, InstallFailed, UpgradeFailed,
/// RollbackSucceeded, RetriesExceeded, ArtifactFailed), lastAttemptedRevision and the release
/// history (newest first, "deployed", "superseded", "failed").
/// What can be made to fail, through the values themselves so a demo can reach it from the form:
/// a string value containing <see cref="RejectMarker"/> is rejected when the chart renders (as a
/// template's `fail` would), and one containing <see cref="DegradeMarker"/> lets the release succeed
/// and then takes its first workload's pods unready (a broken app under a green release); one containing
/// <see cref="StuckMarker"/> leaves the release in pending-install or pending-upgrade, as a helm-controller that died
/// mid-action leaves Helm's lock, until a forced reconcile request unlocks it (Released False, PendingRelease,
/// "Unlocked Helm release ...") and retries, which then succeeds.
/// Values are composed as helm-controller composes them: each <c>valuesFrom</c> entry in order (a Secret or
/// ConfigMap key, set at <c>targetPath</c> when given, else merged as YAML), then <c>spec.values</c> over them;
/// a missing reference is Ready False with reason ValuesError and is retried. The release is upgraded when the
/// generation changes, or when a <c>reconcile.fluxcd.io/requestedAt</c> request finds the composed values changed
/// (a rotated Secret), since Flux compares the digest of the values it would install.
/// </summary>
public sealed class HelmController(ObjectStore store, IReadOnlyList<SimulatedChart> charts, TimeSpan readyDelay, TimeProvider time)
{
    public const string RejectMarker = "sandbox-fail";
    public const string DegradeMarker = "sandbox-degraded";
    public const string StuckMarker = "sandbox-stuck";
    public const string SimulatedAnnotation = "sandbox.cogrion.io/simulated-by";
    public const string RequestedAtAnnotation = "reconcile.fluxcd.io/requestedAt";

    public static readonly ResourceType HelmRepository = ResourceTypes.ByKind("source.toolkit.fluxcd.io/v1", "HelmRepository")!;
    public static readonly ResourceType HelmRelease = ResourceTypes.ByKind("helm.toolkit.fluxcd.io/v2", "HelmRelease")!;
    private static readonly ResourceType StatefulSet = ResourceTypes.ByKind("apps/v1", "StatefulSet")!;

    /// <summary>Releases being installed or upgraded: when their workloads become ready (Helm's wait).</summary>
    private readonly Dictionary<string, DateTimeOffset> readyAt = [];
    private readonly Dictionary<string, DateTimeOffset> degradeAt = [];

    /// <summary>Releases left pending (by generation), and the generations already unlocked (their retry does not stick again).</summary>
    private readonly Dictionary<string, long> stuck = [];
    private readonly HashSet<(string, long)> unlocked = [];

    /// <summary>
    /// When a release's workloads next become ready or degrade (null: nothing timed), so the cluster's loop wakes then.
    /// Only times still ahead: one already past was due at the last pass, and that pass dealt with it or had reason not to.
    /// </summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            var now = time.GetUtcNow();
            return readyAt.Values.Concat(degradeAt.Values).Where(at => at > now).Order().Cast<DateTimeOffset?>().FirstOrDefault();
        }
    }

    /// <summary>
    /// One pass of each controller that is installed and available (<see cref="FluxControllers"/>): source-controller
    /// fetches the HelmRepositories' indexes, helm-controller acts on the HelmReleases. Without them nothing happens, as
    /// in a cluster without Flux: a HelmRelease stays without conditions. A controller whose kinds are not served (their CRDs
    /// missing) does nothing either: the real ones cannot list them and never start their work.
    /// </summary>
    public void Reconcile()
    {
        if (!CustomResources.Served(store, HelmRepository)) return;
        if (FluxControllers.Available(store, FluxControllers.SourceControllerImage))
            foreach (var repository in store.List(HelmRepository, null)) ReconcileSource(repository);
        if (!CustomResources.Served(store, HelmRelease) || !FluxControllers.Available(store, FluxControllers.HelmControllerImage)) return;
        foreach (var release in store.List(HelmRelease, null))
        {
            try
            {
                Reconcile(release);
            }
            catch (NamespaceGoneException)
            {
                // Its namespace was deleted since the list above, and the release with it: there is nothing to reconcile.
            }
        }
    }

    /// <summary>source-controller's HelmRepository: the index fetched and stored as an artifact (Ready True), or why not.</summary>
    private void ReconcileSource(JsonObject repository)
    {
        var generation = ObjectStore.Number(repository["metadata"]?["generation"]) ?? 1;
        if (ObjectStore.Number(repository["status"]?["observedGeneration"]) == generation) return;
        var ns = Text(repository["metadata"]?["namespace"])!;
        var name = Text(repository["metadata"]?["name"])!;
        var url = Text(repository["spec"]?["url"])?.TrimEnd('/') ?? "";
        var served = charts.Where(c => c.Repository.TrimEnd('/') == url).ToList();
        var now = time.GetUtcNow();
        store.Update(HelmRepository, ns, name, stored =>
        {
            var status = stored["status"] as JsonObject ?? [];
            status["observedGeneration"] = generation;
            if (served.Count == 0)
            {
                status.Remove("artifact");
                SetCondition(status, "Ready", "False", "FetchFailed",
                    $"failed to fetch Helm repository index: failed to cache index to temporary file: failed to fetch {url}/index.yaml : 404 Not " +
                        $"Found",
                    now);
            }
            else
            {
                var revision = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
                    string.Join(";", served.Select(c => $"{c.Name}:{string.Join(",", c.Versions)}")))));
                status["artifact"] = new JsonObject
                {
                    ["path"] = $"helmrepository/{ns}/{name}/index-{revision[7..]}.yaml",
                    ["revision"] = revision,
                    ["url"] = $"http://source-controller.flux-system.svc.cluster.local./helmrepository/{ns}/{name}/index-{revision[7..]}.yaml",
                    ["lastUpdateTime"] = ObjectStore.Timestamp(now),
                };
                SetCondition(status, "Ready", "True", "Succeeded", $"stored artifact: revision '{revision}'", now);
            }
            stored["status"] = status;
            return stored;
        });
    }

    private void Reconcile(JsonObject release)
    {
        var ns = Text(release["metadata"]?["namespace"])!;
        var name = Text(release["metadata"]?["name"])!;
        if (!SourceFetched(release, ns)) return;
        var key = $"{ns}/{name}";
        var generation = ObjectStore.Number(release["metadata"]?["generation"]) ?? 1;
        var status = release["status"] as JsonObject ?? [];
        var now = time.GetUtcNow();

        var requestedAt = Text(release["metadata"]?["annotations"]?[RequestedAtAnnotation]);
        var requested = requestedAt is not null && requestedAt != Text(status["lastHandledReconcileAt"]);
        if (requested && stuck.Remove(key, out var stuckGeneration))
        {
            Unlock(ns, name, now);
            unlocked.Add((key, stuckGeneration));
            Attempt(store.Get(HelmRelease, ns, name) ?? release, ns, name, key, generation, requestedAt, now, force: true);
            return;
        }
        if (stuck.ContainsKey(key) && ObjectStore.Number(status["lastAttemptedGeneration"]) == generation) return;
        if (ObjectStore.Number(status["lastAttemptedGeneration"]) != generation || requested)
        {
            Attempt(release, ns, name, key, generation, requestedAt, now);
            return;
        }
        if (readyAt.TryGetValue(key, out var ready) && now >= ready)
        {
            readyAt.Remove(key);
            Succeed(release, ns, name, generation, now);
            if (ContainsText(ComposeValues(release["spec"] as JsonObject ?? [], ns, out _), DegradeMarker)) degradeAt[key] = now + readyDelay;
            return;
        }
        if (degradeAt.TryGetValue(key, out var degrade) && now >= degrade)
        {
            degradeAt.Remove(key);
            var chart = Chart(release, ns, out _);
            if (chart?.Workloads.FirstOrDefault() is { } first) WriteWorkload(ns, name, chart, Text(status["lastAttemptedRevision"])!, first,
                ready: false);
        }
    }

    /// <summary>A new desired state (generation): resolve the chart, then install or upgrade.</summary>
    private void Attempt(JsonObject release, string ns, string name, string key, long generation, string? requestedAt, DateTimeOffset now,
        bool force = false)
    {
        var spec = release["spec"] as JsonObject ?? [];
        var values = ComposeValues(spec, ns, out var valuesProblem);
        if (valuesProblem is not null)
        {
            // Not an attempt: nothing was installed; the next pass tries again (the Secret may be on its way).
            var ready = (Status(release)["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => Text(c["type"]) == "Ready");
            if (ready is not null && Text(ready["reason"]) == "ValuesError" && Text(ready["message"]) == valuesProblem) return;
            WriteStatus(ns, name, status =>
            {
                SetCondition(status, "Reconciling", "True", "Progressing", "Fulfilling prerequisites", now);
                SetCondition(status, "Ready", "False", "ValuesError", valuesProblem, now);
            });
            return;
        }
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(values.ToJsonString())));
        var current = Status(release);
        if (!force && ObjectStore.Number(current["lastAttemptedGeneration"]) == generation && Text(current["lastAttemptedConfigDigest"]) == digest)
        {
            // A reconcile request that finds nothing to change: handled, no new Helm action.
            WriteStatus(ns, name, status => status["lastHandledReconcileAt"] = requestedAt);
            return;
        }
        var version = Text(spec["chart"]?["spec"]?["version"]) ?? "*";
        var chart = Chart(release, ns, out var problem);
        if (chart is not null && !chart.Versions.Contains(version))
            problem = $"invalid chart reference: failed to get chart version for remote reference: no '{chart.Name}' chart with version matching " +
                $"'{version}' found";
        var history = Status(release)["history"] as JsonArray ?? [];
        var upgrade = history.OfType<JsonObject>().Any(h => Text(h["status"]) == "deployed");
        var action = upgrade ? "upgrade" : "install";

        WriteStatus(ns, name, status =>
        {
            status["lastAttemptedGeneration"] = generation;
            status["lastAttemptedRevision"] = version;
            status["lastAttemptedReleaseAction"] = action;
            status["lastAttemptedConfigDigest"] = digest;
            if (requestedAt is not null) status["lastHandledReconcileAt"] = requestedAt;
            status.Remove("installFailures");
            status.Remove("upgradeFailures");
            if (problem is not null)
            {
                SetCondition(status, "Ready", "False", "ArtifactFailed", problem, now);
                SetCondition(status, "Stalled", "True", "ArtifactFailed", problem, now);
                status.Remove("observedGeneration");
                return;
            }
            RemoveCondition(status, "Stalled");
            SetCondition(status, "Reconciling", "True", "Progressing", $"Running '{action}' action with timeout of 5m0s", now);
            SetCondition(status, "Ready", "Unknown", "Progressing", $"Running '{action}' action with timeout of 5m0s", now);
        });
        if (problem is not null) return;

        if (ContainsText(values, StuckMarker) && !unlocked.Contains((key, generation)))
        {
            // The action starts and never ends: Helm's release record stays pending, and so does the HelmRelease.
            WriteStatus(ns, name, status => Push(status, chart!, version, upgrade ? "pending-upgrade" : "pending-install", now));
            stuck[key] = generation;
            readyAt.Remove(key);
            return;
        }
        if (ContainsText(values, RejectMarker))
        {
            Fail(release, ns, name, chart!, version, upgrade, generation, now);
            return;
        }
        foreach (var workload in chart!.Workloads) WriteWorkload(ns, name, chart, version, workload, ready: false);
        readyAt[key] = now + readyDelay;
        degradeAt.Remove(key);
    }

    private void Succeed(JsonObject release, string ns, string name, long generation, DateTimeOffset now)
    {
        var chart = Chart(release, ns, out _)!;
        var version = Text(Status(release)["lastAttemptedRevision"])!;
        foreach (var workload in chart.Workloads) WriteWorkload(ns, name, chart, version, workload, ready: true);
        WriteStatus(ns, name, status =>
        {
            var history = status["history"] as JsonArray ?? [];
            var upgrade = history.OfType<JsonObject>().Any(h => Text(h["status"]) == "deployed");
            var revision = Push(status, chart, version, "deployed", now);
            var reason = upgrade ? "UpgradeSucceeded" : "InstallSucceeded";
            var message = $"Helm {(upgrade ? "upgrade" : "install")} succeeded for release {ns}/{name}.v{revision} with chart {chart.Name}@{version}";
            SetCondition(status, "Released", "True", reason, message, now);
            SetCondition(status, "Ready", "True", reason, message, now);
            RemoveCondition(status, "Reconciling");
            RemoveCondition(status, "Remediated");
            RemoveCondition(status, "Stalled");
            status["observedGeneration"] = generation;
        });
    }

    /// <summary>The chart refused the values. Install: retries, then stalled. Upgrade: rollback to the last deployed release, retries, then
    /// stalled.</summary>
    private void Fail(JsonObject release, string ns, string name, SimulatedChart chart, string version, bool upgrade, long generation,
        DateTimeOffset now)
    {
        var spec = release["spec"] as JsonObject ?? [];
        var retries = (int)(ObjectStore.Number(spec[upgrade ? "upgrade" : "install"]?["remediation"]?["retries"]) ?? 0);
        var attempts = retries + 1;
        var error = $"execution error at ({chart.Name}/templates/validate.yaml:3:4): the simulated chart rejects a value containing '{RejectMarker}'";
        WriteStatus(ns, name, status =>
        {
            var failed = upgrade
                ? $"Helm upgrade failed for release {ns}/{name} with chart {chart.Name}@{version}: {error}"
                : $"Helm install failed for release {ns}/{name} with chart {chart.Name}@{version}: {error}";
            status[upgrade ? "upgradeFailures" : "installFailures"] = attempts;
            status["failures"] = (ObjectStore.Number(status["failures"]) ?? 0) + attempts;
            SetCondition(status, "Released", "False", upgrade ? "UpgradeFailed" : "InstallFailed", failed, now);
            if (upgrade)
            {
                var previous = (status["history"] as JsonArray ?? []).OfType<JsonObject>().First(h => Text(h["status"]) == "deployed");
                var previousVersion = Text(previous["chartVersion"])!;
                var previousRevision = ObjectStore.Number(previous["version"]);
                Push(status, chart, version, "failed", now);
                Push(status, chart, previousVersion, "deployed", now);
                var rolledBack = $"Helm rollback to previous release {ns}/{name}.v{previousRevision} with chart {chart.Name}@{previousVersion} " +
                    $"succeeded";
                SetCondition(status, "Remediated", "True", "RollbackSucceeded", rolledBack, now);
                SetCondition(status, "Ready", "False", "RollbackSucceeded", rolledBack, now);
            }
            else
            {
                SetCondition(status, "Ready", "False", "InstallFailed", failed, now);
            }
            SetCondition(status, "Stalled", "True", "RetriesExceeded", $"Failed to {(upgrade ? "upgrade" : "install")} after {attempts} attempt(s)",
                now);
            RemoveCondition(status, "Reconciling");
            status["observedGeneration"] = generation;
        });
    }

    /// <summary>helm-controller's unlock: the pending release is marked failed, Released False (PendingRelease), a failure counted.</summary>
    private void Unlock(string ns, string name, DateTimeOffset now) =>
        WriteStatus(ns, name, status =>
        {
            if ((status["history"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault() is not { } pending
                || Text(pending["status"]) is not { } state || !state.StartsWith("pending-", StringComparison.Ordinal)) return;
            pending["status"] = "failed";
            status["failures"] = (ObjectStore.Number(status["failures"]) ?? 0) + 1;
            SetCondition(status, "Released", "False", "PendingRelease",
                $"Unlocked Helm release {ns}/{name}.v{ObjectStore.Number(pending["version"])} with chart {Text(pending["chartName"])}@" +
                $"{Text(pending["chartVersion"])} in {state} state", now);
        });

    /// <summary>Prepends a release snapshot to the history (newest first); the deployed one before it is superseded. Returns its release
    /// number.</summary>
    private static long Push(JsonObject status, SimulatedChart chart, string version, string state, DateTimeOffset now)
    {
        var history = status["history"] as JsonArray ?? [];
        var number = history.OfType<JsonObject>().Select(h => ObjectStore.Number(h["version"]) ?? 0).DefaultIfEmpty(0).Max() + 1;
        if (state == "deployed")
            foreach (var earlier in history.OfType<JsonObject>().Where(h => Text(h["status"]) == "deployed")) earlier["status"] = "superseded";
        var snapshot = new JsonObject
        {
            ["version"] = number,
            ["chartName"] = chart.Name,
            ["chartVersion"] = version,
            ["status"] = state,
            ["firstDeployed"] = ObjectStore.Timestamp(now),
            ["lastDeployed"] = ObjectStore.Timestamp(now),
        };
        history.Insert(0, snapshot);
        // Flux keeps spec.maxHistory snapshots (5 by default).
        while (history.Count > 5) history.RemoveAt(history.Count - 1);
        status["history"] = history;
        return number;
    }

    /// <summary>
    /// Whether the release's HelmRepository has an artifact yet (source-controller fetched its index). Until then the chart
    /// cannot be pulled and helm-controller waits; a repository that does not exist at all is the release's own ArtifactFailed.
    /// </summary>
    private bool SourceFetched(JsonObject release, string ns)
    {
        var source = release["spec"]?["chart"]?["spec"]?["sourceRef"];
        var repository = store.Get(HelmRepository, Text(source?["namespace"]) ?? ns, Text(source?["name"]) ?? "");
        return repository is null || repository["status"]?["artifact"] is not null
            || (repository["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Any(c => Text(c["reason"]) == "FetchFailed");
    }

    private SimulatedChart? Chart(JsonObject release, string ns, out string? problem)
    {
        problem = null;
        var source = release["spec"]?["chart"]?["spec"]?["sourceRef"];
        var sourceName = Text(source?["name"]) ?? "";
        var sourceNamespace = Text(source?["namespace"]) ?? ns;
        var repository = store.Get(HelmRepository, sourceNamespace, sourceName);
        if (repository is null)
        {
            problem = $"HelmRepository '{sourceNamespace}/{sourceName}' not found";
            return null;
        }
        var url = Text(repository["spec"]?["url"])?.TrimEnd('/');
        var chartName = Text(release["spec"]?["chart"]?["spec"]?["chart"]);
        var chart = charts.FirstOrDefault(c => c.Repository.TrimEnd('/') == url && c.Name == chartName);
        if (chart is null) problem = $"invalid chart reference: failed to get chart version for remote reference: no chart name found: " +
            $"'{chartName}' in {url}";
        return chart;
    }

    private void WriteWorkload(string ns, string release, SimulatedChart chart, string version, (string Kind, string Name) workload, bool ready)
    {
        if (workload.Kind == "StatefulSet") PersistentVolumeController.ClaimFor(store, ns, release, workload.Name);
        var type = workload.Kind == "StatefulSet" ? StatefulSet : ResourceTypes.Deployment;
        var labels = new JsonObject
        {
            ["app.kubernetes.io/managed-by"] = "Helm",
            ["app.kubernetes.io/instance"] = release,
            ["helm.sh/chart"] = $"{chart.Name}-{version}",
        };
        store.Write(type, ns, workload.Name, _ => new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["labels"] = labels,
                ["annotations"] = new JsonObject
                {
                    ["meta.helm.sh/release-name"] = release,
                    ["meta.helm.sh/release-namespace"] = ns,
                    [SimulatedAnnotation] = "helm-controller",
                },
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["selector"] = new JsonObject
                {
                    ["matchLabels"] = new JsonObject
                    {
                        ["app.kubernetes.io/instance"] = release,
                        ["app.kubernetes.io/component"] = workload.Name
                    }
                },
            },
            ["status"] = new JsonObject
            {
                ["observedGeneration"] = 1,
                ["replicas"] = 1,
                ["readyReplicas"] = ready ? 1 : 0,
                ["availableReplicas"] = ready ? 1 : 0,
                ["updatedReplicas"] = 1,
            },
        });
    }

    private void WriteStatus(string ns, string name, Action<JsonObject> change) =>
        store.Update(HelmRelease, ns, name, stored =>
        {
            var status = stored["status"] as JsonObject ?? [];
            change(status);
            stored["status"] = status;
            return stored;
        });

    /// <summary>valuesFrom in order, then spec.values over them (helm-controller's order); a problem names the missing reference.</summary>
    private JsonObject ComposeValues(JsonObject spec, string ns, out string? problem)
    {
        problem = null;
        var composed = new JsonObject();
        foreach (var reference in (spec["valuesFrom"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var kind = Text(reference["kind"]) ?? "";
            var name = Text(reference["name"]) ?? "";
            var valuesKey = Text(reference["valuesKey"]) ?? "values.yaml";
            var optional = reference["optional"] is JsonValue o && o.TryGetValue<bool>(out var isOptional) && isOptional;
            var source = store.Get(kind == "ConfigMap" ? ResourceTypes.ConfigMap : ResourceTypes.Secret, ns, name);
            string? text = null;
            if (kind == "Secret" && Text(source?["data"]?[valuesKey]) is { } encoded)
                text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            else if (kind == "ConfigMap") text = Text(source?["data"]?[valuesKey]);
            if (text is null)
            {
                if (optional) continue;
                problem = $"could not resolve {kind} chart values reference '{ns}/{name}' with key '{valuesKey}'";
                return composed;
            }
            if (Text(reference["targetPath"]) is { Length: > 0 } targetPath) SetAt(composed, targetPath, text);
            else if (Cogrion.Sandbox.YamlDocuments.Parse(text) is { } parsed) composed = Merge(composed, parsed);
        }
        return spec["values"] is JsonObject values ? Merge(composed, values) : composed;
    }

    private static void SetAt(JsonObject root, string path, string value)
    {
        var segments = path.Split('.');
        var node = root;
        foreach (var segment in segments[..^1])
        {
            if (node[segment] is not JsonObject child) node[segment] = child = new JsonObject();
            node = child;
        }
        node[segments[^1]] = value;
    }

    private static JsonObject Merge(JsonObject under, JsonObject over)
    {
        var merged = (JsonObject)under.DeepClone();
        foreach (var (key, value) in over)
            merged[key] = value is JsonObject child && merged[key] is JsonObject existing ? Merge(existing, child) : value?.DeepClone();
        return merged;
    }

    private static JsonObject Status(JsonObject release) => release["status"] as JsonObject ?? [];

    private static void SetCondition(JsonObject status, string type, string value, string reason, string message, DateTimeOffset now)
    {
        var conditions = status["conditions"] as JsonArray ?? [];
        status["conditions"] = conditions;
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => Text(c["type"]) == type);
        var transitioned = existing is null || Text(existing["status"]) != value;
        var condition = new JsonObject
        {
            ["type"] = type,
            ["status"] = value,
            ["reason"] = reason,
            ["message"] = message,
            ["lastTransitionTime"] = transitioned ? ObjectStore.Timestamp(now) : existing!["lastTransitionTime"]?.DeepClone(),
        };
        if (existing is not null) conditions[conditions.IndexOf(existing)] = condition;
        else conditions.Add(condition);
    }

    private static void RemoveCondition(JsonObject status, string type)
    {
        if (status["conditions"] is not JsonArray conditions) return;
        foreach (var c in conditions.OfType<JsonObject>().Where(c => Text(c["type"]) == type).ToList()) conditions.Remove(c);
    }

    private static bool ContainsText(JsonNode? node, string marker) => node switch
    {
        JsonObject o => o.Any(p => ContainsText(p.Value, marker)),
        JsonArray a => a.Any(i => ContainsText(i, marker)),
        JsonValue v => v.TryGetValue<string>(out var s) && s.Contains(marker, StringComparison.Ordinal),
        _ => false,
    };

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}

/// <summary>The simulated Helm repository's charts: read from the catalog's app folders (catalog/&lt;app&gt;/app.json).</summary>
public static class SimulatedCharts
{
    public static IReadOnlyList<SimulatedChart> Load(string? catalogDirectory)
    {
        if (catalogDirectory is null || !Directory.Exists(catalogDirectory)) return [];
        var charts = new List<SimulatedChart>();
        foreach (var file in Directory.EnumerateFiles(catalogDirectory, "app.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var app = JsonNode.Parse(File.ReadAllText(file)) as JsonObject;
            var chart = app?["chart"];
            if (chart?["repository"]?.GetValue<string>() is not { } repository || chart["name"]?.GetValue<string>() is not { } name) continue;
            var versions = (chart["versions"] as JsonArray ?? []).Select(v => v!.GetValue<string>()).ToList();
            var workloads = (app!["workloads"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(w => (w["kind"]!.GetValue<string>(), w["name"]!.GetValue<string>())).ToList();
            charts.Add(new SimulatedChart(repository, name, versions, workloads));
        }
        return charts;
    }
}
