using System.Text.Json.Nodes;
using Cogrion.Sandbox.Cluster.Store;

namespace Cogrion.Portal.Tests.Agents.Kubernetes;

/// <summary>
/// The simulated cluster's store under the races its controllers run into: a controller reads an object, the object (or its
/// namespace) is deleted by a client, and the controller writes what it computed. A real API server refuses both writes (an
/// update needs the object, a create needs a live namespace); so does the store, in the same step as the write.
/// </summary>
public sealed class SimulatedStoreTests
{
    private readonly ObjectStore store = new(null, TimeProvider.System);

    [Fact]
    public void A_status_write_for_an_object_deleted_after_it_was_read_writes_nothing()
    {
        var ns = Namespace();
        store.Write(ResourceTypes.Deployment, ns, "web", _ => new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 1 } });
        var read = store.Get(ResourceTypes.Deployment, ns, "web")!;
        var version = store.ResourceVersion;

        Assert.True(store.Delete(ResourceTypes.Deployment, ns, "web"));
        var written = store.Update(ResourceTypes.Deployment, ns, "web", stored =>
        {
            stored["status"] = new JsonObject { ["replicas"] = read["spec"]!["replicas"]!.DeepClone() };
            return stored;
        });

        Assert.Null(written);
        Assert.Null(store.Get(ResourceTypes.Deployment, ns, "web"));
        // Nothing came back through a watch either: the deletion is the last change.
        var (changes, _) = store.ChangesAfter(ResourceTypes.Deployment, ns, version);
        Assert.Equal([ChangeKind.Deleted], changes!.Select(c => c.Kind));
    }

    [Fact]
    public void An_update_of_an_object_that_exists_changes_it()
    {
        var ns = Namespace();
        store.Write(ResourceTypes.Deployment, ns, "web", _ => new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 1 } });

        var written = store.Update(ResourceTypes.Deployment, ns, "web", stored =>
        {
            stored["status"] = new JsonObject { ["readyReplicas"] = 1 };
            return stored;
        });

        Assert.Equal(1, written!["status"]!["readyReplicas"]!.GetValue<int>());
        Assert.Equal(1, store.Get(ResourceTypes.Deployment, ns, "web")!["status"]!["readyReplicas"]!.GetValue<int>());
    }

    [Fact]
    public void A_client_write_computed_from_an_object_read_before_a_status_write_does_not_undo_it()
    {
        var ns = Namespace();
        store.Write(ResourceTypes.Deployment, ns, "web", _ => new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 1 } });
        var read = store.Get(ResourceTypes.Deployment, ns, "web")!;
        var readVersion = read["metadata"]!["resourceVersion"]!.GetValue<string>();
        store.Update(ResourceTypes.Deployment, ns, "web", stored =>
        {
            stored["status"] = new JsonObject { ["readyReplicas"] = 1 };
            return stored;
        });

        read["spec"]!["replicas"] = 2;
        var stale = store.WriteIfUnchanged(ResourceTypes.Deployment, ns, "web", readVersion, read);

        Assert.Null(stale);
        Assert.Equal(1, store.Get(ResourceTypes.Deployment, ns, "web")!["status"]!["readyReplicas"]!.GetValue<int>());
        // Computed again from the object as it is now, it is written.
        var current = store.Get(ResourceTypes.Deployment, ns, "web")!;
        current["spec"]!["replicas"] = 2;
        var (stored, created) = store.WriteIfUnchanged(ResourceTypes.Deployment, ns, "web",
            current["metadata"]!["resourceVersion"]!.GetValue<string>(), current)!.Value;
        Assert.False(created);
        Assert.Equal(2, stored["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(1, stored["status"]!["readyReplicas"]!.GetValue<int>());
        // A create expects nothing there: one that lost the race to another create writes nothing.
        Assert.Null(store.WriteIfUnchanged(ResourceTypes.Deployment, ns, "web", null, new JsonObject()));
    }

    [Fact]
    public void Nothing_is_created_in_a_namespace_deleted_a_moment_before()
    {
        var ns = Namespace();
        store.Write(ResourceTypes.Pod, ns, "web-1", _ => new JsonObject { ["spec"] = new JsonObject() });
        Assert.True(store.Delete(ResourceTypes.Namespace, null, ns));

        var refused = Assert.Throws<NamespaceGoneException>(() =>
            store.Write(ResourceTypes.Pod, ns, "web-2", _ => new JsonObject { ["spec"] = new JsonObject() }));

        Assert.Equal(ns, refused.Namespace);
        Assert.Empty(store.List(ResourceTypes.Pod, ns));
        // Cluster-scoped objects need no namespace.
        store.Write(ResourceTypes.Namespace, null, ns, _ => new JsonObject());
    }

    private string Namespace()
    {
        var name = "ns-" + Guid.NewGuid().ToString("n")[..8];
        store.Write(ResourceTypes.Namespace, null, name, _ => new JsonObject());
        return name;
    }
}
