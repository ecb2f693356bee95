using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Authentication;

namespace Cogrion.Kubernetes;

/// <summary>
/// The configuration every pod gets, read the way KubernetesClient's own <c>InClusterConfig()</c>
/// reads it: KUBERNETES_SERVICE_HOST/PORT, the projected service-account token (re-read as the
/// kubelet rotates it), the cluster's CA bundle, and the pod's namespace.
/// One difference, on purpose: the files are looked up under <see cref="ContainerRoot"/>. In a real
/// pod that is "/", so this is exactly InClusterConfig. The sandbox's simulated kubelet has no mount
/// namespace, so it runs each pod with its files under a directory of their own and says where in
/// <c>COGRION_SANDBOX_CONTAINER_ROOT</c> (docs/sandbox.md); the rest of the path is the real one.
/// </summary>
public static class InClusterConfiguration
{
    public const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    public static string ContainerRoot
        => Environment.GetEnvironmentVariable(Cogrion.Agent.Protocol.SandboxContainer.RootVariable) is { Length: > 0 } root ? root : "/";

    /// <summary>An absolute path in the container, as this process sees it.</summary>
    public static string ContainerPath(string path) =>
        ContainerRoot == "/" ? path : Path.Combine(ContainerRoot, path.TrimStart('/'));

    public static KubernetesClientConfiguration Load()
    {
        var host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrWhiteSpace(host) || string.IsNullOrWhiteSpace(port))
            throw new KubernetesException(0,
                "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: the agent is not running in a Kubernetes pod. " +
                "It runs only in a cluster: a real one, or a sandbox workspace's simulated one.");
        var directory = ContainerPath(ServiceAccountDirectory);
        var tokenFile = Path.Combine(directory, "token");
        var caFile = Path.Combine(directory, "ca.crt");
        if (!File.Exists(tokenFile))
            throw new KubernetesException(0, $"The service-account token {tokenFile} is missing: is automountServiceAccountToken disabled?");
        if (!File.Exists(caFile))
            throw new KubernetesException(0, $"The cluster CA bundle {caFile} is missing: is automountServiceAccountToken disabled?");
        var authority = host.Contains(':') ? $"[{host}]" : host; // IPv6 service address
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPemFile(caFile);
        var namespaceFile = Path.Combine(directory, "namespace");
        return new KubernetesClientConfiguration
        {
            Host = $"https://{authority}:{port}",
            // TLS is validated against the cluster's own CA only, not the system store.
            SslCaCerts = trusted,
            TokenProvider = new TokenFileAuth(tokenFile),
            Namespace = File.Exists(namespaceFile) ? File.ReadAllText(namespaceFile).Trim() : null,
            // The agent's watches (ADR 0075) are long-lived HTTP/2 streams: past the server's stream limit per connection
            // (250 on a kube-apiserver), a second connection, rather than every other call queueing behind them.
            FirstMessageHandlerSetup = handler => handler.EnableMultipleHttp2Connections = true,
        };
    }
}
