using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Cogrion.Sandbox.Cluster.Store;

namespace Cogrion.Sandbox.Cluster.Runtime;

/// <summary>
/// Persistent volumes as a dynamic provisioner and Kubernetes' PV controller handle them, as far as a catalog app needs:
/// each StatefulSet of a chart gets its volumeClaimTemplate's claim (<c>data-&lt;statefulset&gt;-0</c>) bound to a
/// provisioned volume with the storage class's reclaim policy (Delete). When a claim goes (its namespace deleted), its
/// volume is deleted under Delete, and kept as Released under Retain: so "also delete data" is observable.
/// </summary>
public static class PersistentVolumeController
{
    public const string StorageClass = "sandbox-standard";

    public static void ClaimFor(ObjectStore store, string ns, string release, string statefulSet)
    {
        var claim = $"data-{statefulSet}-0";
        if (store.Get(ResourceTypes.PersistentVolumeClaim, ns, claim) is not null) return;
        var volume = "pvc-" + new Guid(SHA256.HashData(Encoding.UTF8.GetBytes($"{ns}/{claim}/{Guid.NewGuid()}"))[..16]).ToString("D");
        store.Write(ResourceTypes.PersistentVolume, null, volume, _ => new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["annotations"] = new JsonObject { ["pv.kubernetes.io/provisioned-by"] = "sandbox.cogrion.io/hostpath" },
            },
            ["spec"] = new JsonObject
            {
                ["capacity"] = new JsonObject { ["storage"] = "8Gi" },
                ["accessModes"] = new JsonArray("ReadWriteOnce"),
                ["persistentVolumeReclaimPolicy"] = "Delete",
                ["storageClassName"] = StorageClass,
                ["claimRef"] = new JsonObject { ["kind"] = "PersistentVolumeClaim", ["namespace"] = ns, ["name"] = claim },
            },
            ["status"] = new JsonObject { ["phase"] = "Bound" },
        });
        store.Write(ResourceTypes.PersistentVolumeClaim, ns, claim, _ => new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["labels"] = new JsonObject { ["app.kubernetes.io/instance"] = release, ["app.kubernetes.io/component"] = statefulSet },
            },
            ["spec"] = new JsonObject
            {
                ["accessModes"] = new JsonArray("ReadWriteOnce"),
                ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["storage"] = "8Gi" } },
                ["storageClassName"] = StorageClass,
                ["volumeName"] = volume,
            },
            ["status"] = new JsonObject { ["phase"] = "Bound" },
        });
    }

    /// <summary>Volumes whose claim is gone: deleted (reclaim policy Delete) or Released (Retain), as the PV controller does.</summary>
    public static void Reconcile(ObjectStore store)
    {
        foreach (var volume in store.List(ResourceTypes.PersistentVolume, null))
        {
            var claimRef = volume["spec"]?["claimRef"];
            var ns = claimRef?["namespace"]?.GetValue<string>();
            var claim = claimRef?["name"]?.GetValue<string>();
            if (ns is null || claim is null || store.Get(ResourceTypes.PersistentVolumeClaim, ns, claim) is not null) continue;
            var name = volume["metadata"]!["name"]!.GetValue<string>();
            if (volume["spec"]?["persistentVolumeReclaimPolicy"]?.GetValue<string>() == "Retain")
            {
                if (volume["status"]?["phase"]?.GetValue<string>() == "Released") continue;
                store.Update(ResourceTypes.PersistentVolume, null, name, stored =>
                {
                    stored["status"] = new JsonObject { ["phase"] = "Released" };
                    return stored;
                });
            }
            else store.Delete(ResourceTypes.PersistentVolume, null, name);
        }
    }
}
