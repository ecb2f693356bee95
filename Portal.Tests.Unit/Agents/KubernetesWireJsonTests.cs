using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using KubernetesClient = Cogrion.Kubernetes.KubernetesClient;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// The agent's Kubernetes client resolves JSON through its own small context, never through
/// KubernetesClient.Aot's context of every model, which the Native AOT agent leaves out of its binary
/// (ADR 0125). Under JIT both exist, so these tests are what keeps the client off the library's context.
/// </summary>
public sealed class KubernetesWireJsonTests
{
    private static KubernetesClientConfiguration Configuration() => new() { Host = "https://127.0.0.1:6443", AccessToken = "token" };

    [Fact]
    public void The_client_resolves_the_types_it_exchanges_and_none_of_the_librarys_models()
    {
        var configuration = Configuration();
        using var client = new KubernetesClient(configuration);
        var options = configuration.JsonSerializerOptions;

        Assert.NotNull(options.TypeInfoResolver!.GetTypeInfo(typeof(JsonObject), options));
        Assert.NotNull(options.TypeInfoResolver.GetTypeInfo(typeof(VersionInfo), options));
        Assert.NotNull(options.TypeInfoResolver.GetTypeInfo(typeof(V1Patch), options));
        // A typed model would need the library's context: the client must not ask for one.
        Assert.Null(options.TypeInfoResolver.GetTypeInfo(typeof(V1Pod), options));
        Assert.Null(options.TypeInfoResolver.GetTypeInfo(typeof(V1Status), options));
    }

    [Fact]
    public void Patch_bodies_are_written_as_they_are_and_objects_read_as_json()
    {
        var configuration = Configuration();
        using var client = new KubernetesClient(configuration);
        var options = configuration.JsonSerializerOptions;

        Assert.Equal("""{"kind":"ConfigMap"}""",
            KubernetesJson.Serialize(new V1Patch("""{"kind":"ConfigMap"}""", V1Patch.PatchType.ApplyPatch), options));
        var read = KubernetesJson.Deserialize<JsonObject>("""{"metadata":{"name":"a","x-unknown-field":1}}""", options);
        Assert.Equal(1, read["metadata"]!["x-unknown-field"]!.GetValue<int>());
        Assert.Equal("v1.31.2", KubernetesJson.Deserialize<VersionInfo>("""{"gitVersion":"v1.31.2"}""", options).GitVersion);
    }

    [Fact]
    public void A_configuration_shared_by_two_clients_is_set_up_once()
    {
        var configuration = Configuration();
        using var first = new KubernetesClient(configuration);
        KubernetesJson.Serialize(new V1Patch("{}", V1Patch.PatchType.ApplyPatch), configuration.JsonSerializerOptions); // now read-only

        using var second = new KubernetesClient(configuration);

        Assert.True(configuration.JsonSerializerOptions.IsReadOnly);
    }
}
