using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Cogrion.Sandbox.Cluster.Store;

namespace Cogrion.Sandbox.Cluster.Runtime;

/// <summary>
/// The Deployment controller, as far as the agent's Deployment needs it: pods from the template
/// (labelled with the template's hash, like a ReplicaSet's), RollingUpdate honouring maxSurge and
/// maxUnavailable (an old pod goes only when enough pods are ready: with maxUnavailable 0, only after
/// the new one is), Recreate, rollback by restoring an earlier template (its pods' hash comes back),
/// the status fields `kubectl rollout status` reads, and pods refused when their service account does
/// not exist (the admission check a real cluster makes). ReplicaSet objects are not materialised: the
/// hash label carries what they would.
/// </summary>
public sealed class DeploymentController(ObjectStore store, TimeProvider time)
{
    public const string HashLabel = "pod-template-hash";

    public void Reconcile()
    {
        var deployments = store.List(ResourceTypes.Deployment, null);
        // A simulated chart's workloads have no containers to run: the helm controller writes their status.
        foreach (var deployment in deployments.Where(d => d["metadata"]?["annotations"]?[HelmController.SimulatedAnnotation] is null))
        {
            try
            {
                Reconcile(deployment);
            }
            catch (NamespaceGoneException)
            {
                // Its namespace was deleted since the list above, and the Deployment with it: there is nothing to reconcile.
            }
        }
        // Garbage collection: pods whose Deployment is gone go with it.
        foreach (var pod in store.List(ResourceTypes.Pod, null))
        {
            var owner = (pod["metadata"]?["ownerReferences"] as JsonArray)?.FirstOrDefault(o => o?["kind"]?.GetValue<string>() == "Deployment");
            if (owner is null) continue;
            var ns = Text(pod, "namespace")!;
            if (store.Get(ResourceTypes.Deployment, ns, owner["name"]!.GetValue<string>()) is null) MarkForDeletion(ns, Text(pod, "name")!);
        }
    }

    private void Reconcile(JsonObject deployment)
    {
        var ns = Text(deployment, "namespace")!;
        var name = Text(deployment, "name")!;
        var spec = deployment["spec"] as JsonObject ?? [];
        var template = spec["template"] as JsonObject ?? [];
        var replicas = (int)(ObjectStore.Number(spec["replicas"]) ?? 1);
        var hash = TemplateHash(template);
        var selector = LabelSelector.FromMatchLabels(spec["selector"]?["matchLabels"] as JsonObject);
        var pods = store.List(ResourceTypes.Pod, ns, selector).Where(p => p["metadata"]?["deletionTimestamp"] is null).ToList();
        var current = pods.Where(p => p["metadata"]?["labels"]?[HashLabel]?.GetValue<string>() == hash).ToList();
        var old = pods.Except(current).ToList();
        string? failure = null;

        var recreate = spec["strategy"]?["type"]?.GetValue<string>() == "Recreate";
        if (recreate)
        {
            foreach (var pod in old) MarkForDeletion(ns, Text(pod, "name")!);
            var stillTerminating = store.List(ResourceTypes.Pod, ns, selector)
                .Any(p => p["metadata"]?["labels"]?[HashLabel]?.GetValue<string>() != hash);
            if (!stillTerminating)
                for (var i = current.Count; i < replicas && failure is null; i++) failure = CreatePod(deployment, template, hash);
        }
        else
        {
            var (maxSurge, maxUnavailable) = Limits(spec["strategy"]?["rollingUpdate"] as JsonObject, replicas);
            var room = replicas + maxSurge - pods.Count;
            for (var i = 0; i < Math.Min(replicas - current.Count, room) && failure is null; i++) failure = CreatePod(deployment, template, hash);
            pods = store.List(ResourceTypes.Pod, ns, selector).Where(p => p["metadata"]?["deletionTimestamp"] is null).ToList();
            current = pods.Where(p => p["metadata"]?["labels"]?[HashLabel]?.GetValue<string>() == hash).ToList();
            old = pods.Except(current).ToList();
            var minAvailable = replicas - maxUnavailable;
            // Unready old pods first, as far as the unready new ones leave room (cleanupUnhealthyReplicas)...
            var cleanup = pods.Count - minAvailable - current.Count(p => !IsReady(p));
            foreach (var pod in old.Where(p => !IsReady(p)).Take(Math.Max(0, cleanup)).ToList())
            {
                MarkForDeletion(ns, Text(pod, "name")!);
                old.Remove(pod);
            }
            // ...then ready old pods, only as far as enough pods stay ready.
            var removable = pods.Count(IsReady) - minAvailable;
            foreach (var pod in old.Where(IsReady).Take(Math.Max(0, removable)).ToList()) MarkForDeletion(ns, Text(pod, "name")!);
            foreach (var extra in current.Skip(replicas).ToList()) MarkForDeletion(ns, Text(extra, "name")!);
        }

        var live = store.List(ResourceTypes.Pod, ns, selector).Where(p => p["metadata"]?["deletionTimestamp"] is null).ToList();
        var updated = live.Count(p => p["metadata"]?["labels"]?[HashLabel]?.GetValue<string>() == hash);
        var ready = live.Count(IsReady);
        var status = new JsonObject
        {
            ["observedGeneration"] = ObjectStore.Number(deployment["metadata"]?["generation"]) ?? 1,
            ["replicas"] = live.Count,
            ["updatedReplicas"] = updated,
            ["readyReplicas"] = ready,
            ["availableReplicas"] = ready,
            ["unavailableReplicas"] = Math.Max(0, live.Count - ready),
        };
        var conditions = new JsonArray
        {
            Condition("Available", ready >= replicas ? "True" : "False", ready >= replicas ? "MinimumReplicasAvailable"
                : "MinimumReplicasUnavailable",
                ready >= replicas ? "Deployment has minimum availability." : "Deployment does not have minimum availability."),
        };
        if (failure is not null) conditions.Add(Condition("ReplicaFailure", "True", "FailedCreate", failure));
        status["conditions"] = conditions;
        if (!SameStatus(deployment["status"] as JsonObject, status))
            store.Update(ResourceTypes.Deployment, ns, name, stored =>
            {
                stored["status"] = Stamp(stored["status"] as JsonObject, status);
                return stored;
            });
    }

    /// <summary>Creates one pod from the template, or says why the cluster refused it.</summary>
    private string? CreatePod(JsonObject deployment, JsonObject template, string hash)
    {
        var ns = Text(deployment, "namespace")!;
        var deploymentName = Text(deployment, "name")!;
        var podSpec = (JsonObject?)template["spec"]?.DeepClone() ?? [];
        var serviceAccount = podSpec["serviceAccountName"]?.GetValue<string>() ?? "default";
        var name = $"{deploymentName}-{hash}-{Suffix()}";
        if (serviceAccount != "default" && store.Get(ResourceTypes.ServiceAccount, ns, serviceAccount) is null)
            return $"pods \"{name}\" is forbidden: error looking up service account {ns}/{serviceAccount}: serviceaccount \"{serviceAccount}\" not " +
                $"found";
        var labels = (JsonObject?)template["metadata"]?["labels"]?.DeepClone() ?? [];
        labels[HashLabel] = hash;
        store.Write(ResourceTypes.Pod, ns, name, _ => new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["labels"] = labels,
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "apps/v1",
                    ["kind"] = "Deployment",
                    ["name"] = deploymentName,
                    ["uid"] = deployment["metadata"]?["uid"]?.DeepClone(),
                    ["controller"] = true,
                }),
            },
            ["spec"] = podSpec,
            ["status"] = new JsonObject
            {
                ["phase"] = "Pending",
                ["conditions"] = new JsonArray(Condition("Ready", "False", "ContainersNotReady", "containers with unready status: [all]")),
            },
        });
        return null;
    }

    /// <summary>Graceful deletion: the kubelet stops the container, then removes the pod (one already gone stays gone).</summary>
    public void MarkForDeletion(string ns, string name) =>
        store.Update(ResourceTypes.Pod, ns, name, pod =>
        {
            if (pod["metadata"]!["deletionTimestamp"] is null) pod["metadata"]!["deletionTimestamp"] = ObjectStore.Timestamp(time.GetUtcNow());
            return pod;
        });

    public static bool IsReady(JsonObject pod) =>
        (pod["status"]?["conditions"] as JsonArray ?? [])
            .Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True");

    /// <summary>Like Kubernetes' pod-template-hash: a short digest of the template, so restoring a template restores its hash.</summary>
    public static string TemplateHash(JsonObject template) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(template.ToJsonString())))[..10];

    /// <summary>maxSurge and maxUnavailable: numbers or percentages (surge rounds up, unavailable down); both zero means one unavailable.</summary>
    private static (int Surge, int Unavailable) Limits(JsonObject? rollingUpdate, int replicas)
    {
        var surge = Amount(rollingUpdate?["maxSurge"], replicas, roundUp: true, fallback: "25%");
        var unavailable = Amount(rollingUpdate?["maxUnavailable"], replicas, roundUp: false, fallback: "25%");
        return surge == 0 && unavailable == 0 ? (0, 1) : (surge, unavailable);
    }

    private static int Amount(JsonNode? value, int replicas, bool roundUp, string fallback)
    {
        var text = value is JsonValue v && v.TryGetValue<int>(out var number) ? number.ToString(CultureInfo.InvariantCulture)
            : value?.GetValue<string>() ?? fallback;
        if (!text.EndsWith('%')) return int.Parse(text, CultureInfo.InvariantCulture);
        var share = replicas * double.Parse(text[..^1], CultureInfo.InvariantCulture) / 100;
        return (int)(roundUp ? Math.Ceiling(share) : Math.Floor(share));
    }

    private static JsonObject Condition(string type, string status, string reason, string message) =>
        new() { ["type"] = type, ["status"] = status, ["reason"] = reason, ["message"] = message };

    /// <summary>Compares the fields this controller writes (not the transition times it stamps).</summary>
    private static bool SameStatus(JsonObject? stored, JsonObject computed) =>
        stored is not null && JsonNode.DeepEquals(Unstamped(stored), Unstamped(computed));

    private static JsonObject Unstamped(JsonObject status)
    {
        var copy = (JsonObject)status.DeepClone();
        foreach (var condition in copy["conditions"] as JsonArray ?? []) (condition as JsonObject)?.Remove("lastTransitionTime");
        return copy;
    }

    private JsonObject Stamp(JsonObject? previous, JsonObject status)
    {
        var now = ObjectStore.Timestamp(time.GetUtcNow());
        foreach (var condition in (status["conditions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var before = (previous?["conditions"] as JsonArray)?.OfType<JsonObject>()
                .FirstOrDefault(c => c["type"]?.GetValue<string>() == condition["type"]?.GetValue<string>());
            condition["lastTransitionTime"] = before?["status"]?.GetValue<string>() == condition["status"]?.GetValue<string>()
                ? before?["lastTransitionTime"]?.DeepClone() ?? now : now;
        }
        return status;
    }

    private static string Suffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Concat(Enumerable.Range(0, 5).Select(_ => alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]));
    }

    private static string? Text(JsonObject o, string field) => o["metadata"]?[field]?.GetValue<string>();
}
