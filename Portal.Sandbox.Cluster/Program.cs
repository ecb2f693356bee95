using Microsoft.Extensions.Logging;

namespace Cogrion.Sandbox.Cluster;

// sandbox-cluster --dir DIRECTORY [--image REFERENCE=EXECUTABLE ...] [--kubernetes-version vX.Y.Z] [--apply FILE.yaml ...]
//                 [--charts CATALOG_DIRECTORY] [--chart-ready-delay SECONDS]
//
// Serves one sandbox workspace's simulated cluster until SIGTERM or SIGINT. The Portal starts it under
// cogrion-lifeline (it dies with the Portal) and reads DIRECTORY/kubeconfig for its address and admin
// credentials; so does tofu-sandbox when it applies the workspace's Kubernetes objects. --apply
// applies a YAML file's documents as the admin once serving (a local trial, bench/agent-footprint.sh).
// Exit codes: 0 stopped, 2 bad arguments, 3 another sandbox-cluster already serves DIRECTORY.
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string? directory = null;
        var images = new Dictionary<string, string>();
        var version = "v1.31.0-sandbox";
        var apply = new List<string>();
        string? charts = null;
        var chartReadyDelay = TimeSpan.FromSeconds(3);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--dir" when i + 1 < args.Length: directory = Path.GetFullPath(args[++i]); break;
                case "--kubernetes-version" when i + 1 < args.Length: version = args[++i]; break;
                case "--apply" when i + 1 < args.Length: apply.Add(Path.GetFullPath(args[++i])); break;
                case "--charts" when i + 1 < args.Length: charts = Path.GetFullPath(args[++i]); break;
                case "--chart-ready-delay" when i + 1 < args.Length
                    && double.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out var seconds):
                    chartReadyDelay = TimeSpan.FromSeconds(seconds);
                    i++;
                    break;
                case "--image" when i + 1 < args.Length && args[i + 1].LastIndexOf('=') > 0:
                    var mapping = args[++i];
                    var split = mapping.LastIndexOf('=');
                    images[mapping[..split]] = Path.GetFullPath(mapping[(split + 1)..]);
                    break;
                default:
                    Console.Error.WriteLine($"sandbox-cluster: unexpected argument '{args[i]}'.\nusage: sandbox-cluster --dir DIRECTORY [--image " +
                        $"REFERENCE=EXECUTABLE ...] [--kubernetes-version vX.Y.Z]");
                    return 2;
            }
        }
        if (directory is null)
        {
            Console.Error.WriteLine("sandbox-cluster: --dir is required.");
            return 2;
        }
        Directory.CreateDirectory(directory);

        // One host per cluster, by an exclusive lock rather than by luck: a second one (a Portal restarted
        // while the first still stops) must not run the same agent identity a second time.
        FileStream hostLock;
        try
        {
            hostLock = new FileStream(Path.Combine(directory, "host.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            Console.Error.WriteLine($"sandbox-cluster: another sandbox-cluster serves {directory} (see its host.lock); refusing to run the cluster " +
                $"twice.");
            return 3;
        }
        using (hostLock)
        {
            hostLock.SetLength(0);
            var pid = System.Text.Encoding.UTF8.GetBytes(Environment.ProcessId + "\n");
            hostLock.Write(pid);
            hostLock.Flush();

            using var loggers = LoggerFactory.Create(logging
                => logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
            using var stop = new CancellationTokenSource();
            using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c
                =>
            { c.Cancel = true; stop.Cancel(); });
            using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c
                =>
            { c.Cancel = true; stop.Cancel(); });

            await using var cluster = await SimulatedCluster.StartAsync(new ClusterOptions
            {
                Directory = directory,
                Images = images,
                KubernetesVersion = version,
                Charts = Runtime.SimulatedCharts.Load(charts),
                ChartReadyDelay = chartReadyDelay,
            }, loggers);
            var kubeconfig = Path.Combine(directory, "kubeconfig");
            ClusterCertificates.WritePrivate(kubeconfig, cluster.Kubeconfig());
            foreach (var file in apply)
            {
                // As cluster-admin applying manifests would: CRDs included (Flux's, for a cluster that runs apps).
                using var admin = new Cogrion.Kubernetes.KubernetesClient(k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig),
                    fieldManager: "sandbox-cluster", moreKinds: [Cogrion.Sandbox.FluxInstall.CustomResourceDefinition]);
                foreach (var document in Cogrion.Agent.Protocol.InstallTemplate.SplitDocuments(await File.ReadAllTextAsync(file)))
                    await admin.ApplyAsync(Cogrion.Sandbox.YamlDocuments.Parse(document), stop.Token);
            }
            Console.WriteLine($"sandbox-cluster: serving {cluster.Url}; kubeconfig {kubeconfig}");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            // The address is about to stop answering: a stale kubeconfig would send tofu-sandbox to a dead port.
            File.Delete(kubeconfig);
            Console.WriteLine("sandbox-cluster: stopping; its pods stop with it.");
        }
        return 0;
    }
}
