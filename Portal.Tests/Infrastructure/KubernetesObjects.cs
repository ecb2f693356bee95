using System.Text.Json.Nodes;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The fields a test picks cluster objects by (a simulated cluster's stored JSON), for <c>using static</c>: <c>Kind(o) == "HelmRelease"</c>.
/// </summary>
public static class KubernetesObjects
{
    public static string? Kind(JsonObject o) => o["kind"]?.GetValue<string>();

    public static string? Name(JsonObject o) => o["metadata"]?["name"]?.GetValue<string>();

    public static string? Namespace(JsonObject o) => o["metadata"]?["namespace"]?.GetValue<string>();
}
