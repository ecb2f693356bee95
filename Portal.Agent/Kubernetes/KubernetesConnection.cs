using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Cogrion.Agent.Kubernetes;

/// <summary>Where the API server is and how to prove who the agent is to it.</summary>
public sealed record KubernetesConnection(Uri Server, Func<string?> ReadToken, X509Certificate2Collection? TrustedCertificates)
{
    public const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>
    /// The in-cluster configuration every pod gets: KUBERNETES_SERVICE_HOST/PORT, the projected
    /// service-account token (re-read on use: the kubelet rotates it), and the cluster's CA bundle.
    /// </summary>
    public static KubernetesConnection InCluster(string directory = ServiceAccountDirectory)
    {
        var host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrWhiteSpace(host) || string.IsNullOrWhiteSpace(port))
            throw new KubernetesException(0, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: the agent is not running in a Kubernetes pod. " +
                "Outside a cluster, set Agent:Cluster to Simulated.");
        var tokenFile = Path.Combine(directory, "token");
        var caFile = Path.Combine(directory, "ca.crt");
        if (!File.Exists(caFile))
            throw new KubernetesException(0, $"The cluster CA bundle {caFile} is missing: is automountServiceAccountToken disabled?");
        var authority = host.Contains(':') ? $"[{host}]" : host; // IPv6 service address
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPemFile(caFile);
        return new KubernetesConnection(new Uri($"https://{authority}:{port}"), () => File.Exists(tokenFile) ? File.ReadAllText(tokenFile).Trim() : null, trusted);
    }

    /// <summary>Builds the handler: TLS validated against the cluster's own CA only, not the system store.</summary>
    public SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (TrustedCertificates is { Count: > 0 } trusted)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null) return false;
                if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
        return handler;
    }
}
