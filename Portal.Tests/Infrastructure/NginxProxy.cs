using System.Net.Sockets;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// Debian's nginx as a child process in front of several Portal replicas, with the proxy rules an
/// operator runs (deploy/nginx/portal-maps.conf and portal-proxy.conf, included as they are): sticky
/// sessions by an affinity cookie, WebSocket upgrade, forwarded headers, retry on the next replica.
/// The only addition for tests is the <see cref="UpstreamHeader"/> response header that names the
/// replica which answered.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/nginx";
    public const string UpstreamHeader = "X-Cogrion-Upstream";
    public const string AffinityCookie = "cogrion_affinity";

    private readonly ChildProcess process;
    private readonly string directory;

    public string BaseUrl { get; }
    public string ErrorLog => Path.Combine(directory, "error.log");

    private NginxProxy(ChildProcess process, string directory, string baseUrl)
    {
        this.process = process;
        this.directory = directory;
        BaseUrl = baseUrl;
    }

    /// <summary>Starts nginx on a free loopback port, proxying to the replicas (which need not be up yet).</summary>
    public static async Task<NginxProxy> StartAsync(IReadOnlyList<string> replicaBaseUrls)
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} is missing: run tools/prerequisites.sh test (it installs Debian's nginx).");
        var directory = Directory.CreateTempSubdirectory("cogrion-nginx-").FullName;
        var port = FreePort.Next();
        var nginx = Path.Combine(RepoPaths.Root, "deploy", "nginx");
        var servers = string.Join("\n", replicaBaseUrls.Select(url => $"        server {new Uri(url).Authority} max_fails=1 fail_timeout=10s;"));
        // As root, nginx would hand its workers to "nobody", who cannot write this private folder.
        var user = Environment.UserName == "root" ? "user root;" : "";
        await File.WriteAllTextAsync(Path.Combine(directory, "nginx.conf"), $$"""
            {{user}}
            daemon off;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log info;
            events { worker_connections 4096; }
            http {
                access_log {{directory}}/access.log;
                client_body_temp_path {{directory}}/client_body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                include {{nginx}}/portal-maps.conf;
                upstream portal {
                    hash $cogrion_affinity consistent;
            {{servers}}
                }
                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        include {{nginx}}/portal-proxy.conf;
                        add_header {{UpstreamHeader}} $upstream_addr always;
                    }
                }
            }
            """);
        var process = await ChildProcess.StartTiedAsync("nginx", Binary,
            ["-p", directory, "-e", Path.Combine(directory, "error.log"), "-c", Path.Combine(directory, "nginx.conf")],
            new Dictionary<string, string?>(), directory);
        var proxy = new NginxProxy(process, directory, $"http://127.0.0.1:{port}");
        await Eventually.ValueAsync(() => Task.FromResult(proxy.Accepts(port)), accepts => accepts || process.HasExited, "nginx to listen");
        if (process.HasExited) throw new InvalidOperationException($"nginx did not start:\n{process.Output}\n{File.ReadAllText(proxy.ErrorLog)}");
        return proxy;
    }

    private bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The replica (host:port) that answered a response through the proxy; the last one if nginx tried several.</summary>
    public static string? ServedBy(HttpResponseMessage response) =>
        response.Headers.TryGetValues(UpstreamHeader, out var values) ? values.Single().Split(", ").Last() : null;

    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
