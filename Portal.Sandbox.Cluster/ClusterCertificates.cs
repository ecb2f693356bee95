using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cogrion.Sandbox.Cluster;

/// <summary>
/// The cluster's CA (kept in the cluster's directory, so pods and clients keep trusting it across
/// restarts) and the API server's certificate for 127.0.0.1, issued by it at every start. Clients
/// verify the server against the CA alone, as a pod verifies its cluster with ca.crt.
/// </summary>
public sealed class ClusterCertificates
{
    private ClusterCertificates(X509Certificate2 authority, X509Certificate2 server)
    {
        Authority = authority;
        Server = server;
    }

    public X509Certificate2 Authority { get; }
    public X509Certificate2 Server { get; }

    /// <summary>The CA in PEM: what the kubelet mounts as ca.crt and the kubeconfig carries.</summary>
    public string AuthorityPem => Authority.ExportCertificatePem();

    public static ClusterCertificates LoadOrCreate(string? directory)
    {
        var authority = LoadAuthority(directory) ?? CreateAuthority(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kube-apiserver", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        names.AddDnsName("kubernetes.default.svc");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1), serial);
        // Kestrel needs the private key with the certificate, in a form the platform's TLS can use.
        var server = X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
        return new ClusterCertificates(authority, server);
    }

    private static X509Certificate2? LoadAuthority(string? directory)
    {
        if (directory is null) return null;
        var certificate = Path.Combine(directory, "ca.crt");
        var key = Path.Combine(directory, "ca.key");
        return File.Exists(certificate) && File.Exists(key) ? X509Certificate2.CreateFromPemFile(certificate, key) : null;
    }

    private static X509Certificate2 CreateAuthority(string? directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=cogrion-sandbox-cluster-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
            WritePrivate(Path.Combine(directory, "ca.key"), key.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(Path.Combine(directory, "ca.crt"), authority.ExportCertificatePem());
        }
        return authority;
    }

    /// <summary>A file only the cluster's user can read (the CA key, the admin kubeconfig).</summary>
    public static void WritePrivate(string path, string content)
    {
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(content);
        File.Move(temporary, path, overwrite: true);
    }
}
