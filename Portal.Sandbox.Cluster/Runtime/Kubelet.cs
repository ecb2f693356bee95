using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Cogrion.Lifeline;
using Cogrion.Sandbox.Cluster.Api;
using Cogrion.Sandbox.Cluster.Store;
using Microsoft.Extensions.Logging;

namespace Cogrion.Sandbox.Cluster.Runtime;

/// <summary>Where the kubelet finds what a pod needs from its node.</summary>
public sealed record NodeEnvironment
{
    /// <summary>Image reference → executable. An image not listed cannot be pulled (ErrImagePull, as a registry without it).</summary>
    public required IReadOnlyDictionary<string, string> Images { get; init; }

    /// <summary>Where pods keep their files (each under a directory of its own that stands for its "/").</summary>
    public required string PodsDirectory { get; init; }

    /// <summary>The API server as pods reach it (KUBERNETES_SERVICE_HOST/PORT).</summary>
    public required string ApiHost { get; init; }
    public required int ApiPort { get; init; }

    /// <summary>The cluster CA, mounted into every pod as ca.crt.</summary>
    public required string CaPem { get; init; }

    /// <summary>cogrion-lifeline: every container runs under it, so none outlives this kubelet (docs/adr/0060).</summary>
    public string Lifeline { get; init; } = Path.Combine(AppContext.BaseDirectory, "cogrion-lifeline");
}

/// <summary>
/// A small kubelet for one node: it runs each pod's (single) container as a process under
/// cogrion-lifeline, with what a real kubelet gives it: the Deployment's environment (values,
/// fieldRef, secretKeyRef), its volumes (Secrets as files with their mode, emptyDirs) and the
/// projected service-account token, CA and namespace, all under the pod's own directory
/// (announced in COGRION_SANDBOX_CONTAINER_ROOT, as the simulated node has no mount namespace), a pod
/// IP of its own on the loopback range, HTTP readiness probes, restarts with CrashLoopBackOff, and
/// graceful termination (SIGTERM, then SIGKILL after the grace period). It writes pod status.
/// </summary>
public sealed class Kubelet(ObjectStore store, TokenRegistry tokens, NodeEnvironment node, TimeProvider time, ILogger logger) : IAsyncDisposable
{
    public const string NodeName = "sandbox-node-1";
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan TerminationGrace = TimeSpan.FromSeconds(10);
    private readonly Dictionary<string, PodRuntime> pods = [];
    private readonly HttpClient prober = new() { Timeout = TimeSpan.FromSeconds(1) };

    private sealed class PodRuntime
    {
        public required string Namespace { get; init; }
        public required string Name { get; init; }
        public required string Directory { get; init; }
        public required string Ip { get; init; }
        public Process? Lifeline { get; set; }
        public string? Token { get; set; }
        public int Restarts { get; set; }
        public DateTimeOffset NextStart { get; set; }
        public DateTimeOffset NextProbe { get; set; }
        public int ProbeFailures { get; set; }
        public bool Ready { get; set; }
        public string? StartedAt { get; set; }
        public JsonObject? LastTerminated { get; set; }
        public (string Reason, string Message)? Waiting { get; set; }
        public DateTimeOffset? TerminatingSince { get; set; }
        public StreamWriter? Log { get; set; }

        /// <summary>A container the simulated cluster runs itself (Flux's controllers, <see cref="FluxControllers"/>): no process.</summary>
        public bool BuiltIn { get; set; }
        public bool Running => BuiltIn || Lifeline is { HasExited: false };
    }

    /// <summary>One pass: start, probe, restart and stop containers, and write what changed into the pods' status.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var stored = store.List(ResourceTypes.Pod, null).ToDictionary(p => Key(p), p => p);
        foreach (var (key, runtime) in pods.ToList())
            if (!stored.ContainsKey(key)) { await StopAsync(runtime, immediately: true); pods.Remove(key); }

        foreach (var (key, pod) in stored)
        {
            if (!pods.TryGetValue(key, out var runtime))
            {
                runtime = new PodRuntime
                {
                    Namespace = pod["metadata"]!["namespace"]!.GetValue<string>(),
                    Name = pod["metadata"]!["name"]!.GetValue<string>(),
                    Directory = Path.Combine(node.PodsDirectory, key.Replace('/', '_')),
                    Ip = NewPodIp(),
                };
                pods[key] = runtime;
            }
            if (pod["metadata"]?["deletionTimestamp"] is not null)
            {
                await TerminateAsync(runtime);
                if (!runtime.Running)
                {
                    await StopAsync(runtime, immediately: true);
                    store.Delete(ResourceTypes.Pod, runtime.Namespace, runtime.Name);
                    pods.Remove(key);
                }
                continue;
            }
            await SyncContainerAsync(pod, runtime, cancellationToken);
            WriteStatus(pod, runtime);
        }
    }

    private async Task SyncContainerAsync(JsonObject pod, PodRuntime runtime, CancellationToken cancellationToken)
    {
        var container = (pod["spec"]?["containers"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault();
        if (container is null) { runtime.Waiting = ("InvalidSpec", "the pod has no container"); return; }
        var now = time.GetUtcNow();

        if (runtime.Lifeline is { HasExited: true } exited)
        {
            var code = exited.ExitCode;
            runtime.LastTerminated = new JsonObject
            {
                ["exitCode"] = code,
                ["reason"] = code == 0 ? "Completed" : "Error",
                ["startedAt"] = runtime.StartedAt,
                ["finishedAt"] = ObjectStore.Timestamp(now),
            };
            exited.Dispose();
            runtime.Lifeline = null;
            if (runtime.Token is { } spent) tokens.Revoke(spent);
            runtime.Restarts++;
            runtime.Ready = false;
            var backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, 10 * Math.Pow(2, runtime.Restarts - 1)));
            runtime.NextStart = now + backoff;
            runtime.Waiting = ("CrashLoopBackOff",
                $"back-off {backoff.TotalSeconds:0}s restarting failed container={container["name"]} pod={runtime.Name}");
            logger.LogInformation("Pod {Namespace}/{Pod}: container exited with {ExitCode}; restarting in {Backoff}", runtime.Namespace, runtime.Name,
                code, backoff);
        }

        if (!runtime.Running && now >= runtime.NextStart)
        {
            var problem = await StartAsync(pod, container, runtime, cancellationToken);
            RecordEvent(pod, problem is null ? ("Normal", "Started", $"Started container {container["name"]}")
                : ("Warning", problem.Value.Item1 == "ErrImagePull" ? "Failed" : "BackOff", problem.Value.Item2));
            if (problem is not null)
            {
                runtime.Waiting = problem;
                runtime.NextStart = now + TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, 10 * Math.Pow(2, Math.Min(runtime.Restarts, 5))));
            }
        }

        if (runtime.Running && now >= runtime.NextProbe) await ProbeAsync(container, runtime, cancellationToken);
    }

    /// <summary>Starts the container, or says why it cannot start (the waiting reason a real kubelet would show).</summary>
    private async Task<(string, string)?> StartAsync(JsonObject pod, JsonObject container, PodRuntime runtime, CancellationToken cancellationToken)
    {
        var image = container["image"]?.GetValue<string>() ?? "";
        if (FluxControllers.IsBuiltIn(image)) return StartBuiltIn(runtime, image);
        if (!node.Images.TryGetValue(image, out var executable) || !File.Exists(executable))
            return ("ErrImagePull",
                $"Failed to pull image \"{image}\": the sandbox's registry has no such image (it maps image references to agent builds)");

        var root = Path.Combine(runtime.Directory, "root");
        Directory.CreateDirectory(root);
        var ns = runtime.Namespace;
        var volumes = (pod["spec"]?["volumes"] as JsonArray ?? []).OfType<JsonObject>().ToDictionary(v => v["name"]!.GetValue<string>());
        foreach (var mount in (container["volumeMounts"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var volumeName = mount["name"]?.GetValue<string>() ?? "";
            if (!volumes.TryGetValue(volumeName, out var volume)) return ("CreateContainerConfigError",
                $"volume \"{volumeName}\" not found in the pod");
            var target = Within(root, mount["mountPath"]?.GetValue<string>() ?? "/");
            if (volume["secret"] is JsonObject secretVolume)
            {
                var secretName = secretVolume["secretName"]?.GetValue<string>() ?? "";
                var secret = store.Get(ResourceTypes.Secret, ns, secretName);
                if (secret is null && secretVolume["optional"]?.GetValue<bool>() != true)
                    return ("ContainerCreating", $"MountVolume.SetUp failed for volume \"{volumeName}\" : secret \"{secretName}\" not found");
                WriteSecretFiles(target, secret, secretVolume["defaultMode"]?.GetValue<int>() ?? 420);
            }
            else Directory.CreateDirectory(target);
        }

        var environment = new Dictionary<string, string>();
        foreach (var variable in (container["env"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = variable["name"]?.GetValue<string>() ?? "";
            if (variable["value"] is JsonValue value) environment[name] = value.ToString();
            else if (variable["valueFrom"]?["fieldRef"]?["fieldPath"]?.GetValue<string>() is { } field)
                environment[name] = field switch
                {
                    "metadata.name" => runtime.Name,
                    "metadata.namespace" => ns,
                    "status.podIP" => runtime.Ip,
                    "spec.nodeName" => NodeName,
                    "spec.serviceAccountName" => pod["spec"]?["serviceAccountName"]?.GetValue<string>() ?? "default",
                    _ => "",
                };
            else if (variable["valueFrom"]?["secretKeyRef"] is JsonObject reference)
            {
                var secretName = reference["name"]?.GetValue<string>() ?? "";
                var key = reference["key"]?.GetValue<string>() ?? "";
                var data = store.Get(ResourceTypes.Secret, ns, secretName)?["data"]?[key]?.GetValue<string>();
                if (data is not null) environment[name] = Encoding.UTF8.GetString(Convert.FromBase64String(data));
                else if (reference["optional"]?.GetValue<bool>() != true) return ("CreateContainerConfigError", $"secret \"{secretName}\" not found");
            }
        }

        // The projected service-account volume every pod gets unless it opts out.
        if (pod["spec"]?["automountServiceAccountToken"]?.GetValue<bool>() != false)
        {
            var account = pod["spec"]?["serviceAccountName"]?.GetValue<string>() ?? "default";
            var directory = Within(root, "/var/run/secrets/kubernetes.io/serviceaccount");
            Directory.CreateDirectory(directory);
            runtime.Token = tokens.Issue(UserInfo.ServiceAccount(ns, account));
            await File.WriteAllTextAsync(Path.Combine(directory, "token"), runtime.Token, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(directory, "ca.crt"), node.CaPem, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(directory, "namespace"), ns, cancellationToken);
        }
        environment["KUBERNETES_SERVICE_HOST"] = node.ApiHost;
        environment["KUBERNETES_SERVICE_PORT"] = node.ApiPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["HOSTNAME"] = runtime.Name;
        environment[Cogrion.Agent.Protocol.SandboxContainer.RootVariable] = root;
        environment["TMPDIR"] = Within(root, "/tmp");
        Directory.CreateDirectory(environment["TMPDIR"]);
        // The node's container runtime provides .NET for framework-dependent builds (tests); a Native AOT agent needs nothing.
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } dotnetRoot) environment["DOTNET_ROOT"] = dotnetRoot;

        var start = new ProcessStartInfo(node.Lifeline)
        {
            WorkingDirectory = root,
            UseShellExecute = false,
            RedirectStandardInput = true, // the lifeline: held by this process, never written
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("--grace");
        start.ArgumentList.Add(TerminationGrace.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--signal");
        start.ArgumentList.Add("TERM");
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(executable);
        foreach (var argument in (container["args"] as JsonArray ?? []).Select(a => a?.ToString() ?? "")) start.ArgumentList.Add(argument);
        start.Environment.Clear();
        foreach (var (name, value) in environment) start.Environment[name] = value;

        var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            return ("RunContainerError", $"cannot start the container runtime ({node.Lifeline}): {ex.Message}");
        }
        var first = await process.StandardOutput.ReadLineAsync(cancellationToken);
        if (first is null || !first.StartsWith(Handshake.StartedPrefix, StringComparison.Ordinal))
        {
            await process.WaitForExitAsync(cancellationToken);
            process.Dispose();
            return ("RunContainerError", first is not null && first.StartsWith(Handshake.FailedPrefix, StringComparison.Ordinal)
                ? first[Handshake.FailedPrefix.Length..] : "the container did not start");
        }
        runtime.Lifeline = process;
        runtime.Log ??= new StreamWriter(new FileStream(Path.Combine(runtime.Directory, "container.log"), FileMode.Append, FileAccess.Write,
            FileShare.ReadWrite))
        { AutoFlush = true };
        _ = PumpAsync(process.StandardOutput, runtime.Log);
        _ = PumpAsync(process.StandardError, runtime.Log);
        runtime.StartedAt = ObjectStore.Timestamp(time.GetUtcNow());
        runtime.Waiting = null;
        runtime.ProbeFailures = 0;
        runtime.NextProbe = time.GetUtcNow() + TimeSpan.FromSeconds(container["readinessProbe"]?["initialDelaySeconds"]?.GetValue<int>() ?? 0);
        logger.LogInformation("Pod {Namespace}/{Pod}: started {Image} as {Executable} at {PodIp}", ns, runtime.Name, image, executable, runtime.Ip);
        return null;
    }

    /// <summary>
    /// Flux's controllers are part of the simulated cluster (<see cref="HelmController"/> does their work while their
    /// Deployment is available): their container "runs" without a process and is ready once started, as their
    /// /readyz would answer.
    /// </summary>
    private (string, string)? StartBuiltIn(PodRuntime runtime, string image)
    {
        Directory.CreateDirectory(runtime.Directory);
        runtime.Log ??= new StreamWriter(new FileStream(Path.Combine(runtime.Directory, "container.log"), FileMode.Append, FileAccess.Write,
            FileShare.ReadWrite))
        { AutoFlush = true };
        lock (runtime.Log) runtime.Log.WriteLine($"{{\"level\":\"info\",\"msg\":\"{image}: simulated by the sandbox cluster\"}}");
        runtime.BuiltIn = true;
        runtime.StartedAt = ObjectStore.Timestamp(time.GetUtcNow());
        runtime.Waiting = null;
        runtime.Ready = true;
        runtime.NextProbe = DateTimeOffset.MaxValue;
        logger.LogInformation("Pod {Namespace}/{Pod}: started {Image} (simulated by the cluster)", runtime.Namespace, runtime.Name, image);
        return null;
    }

    /// <summary>
    /// An Event about the pod, as the kubelet records one (support sessions read them): one object per pod and
    /// reason, its count and lastTimestamp bumped when it happens again.
    /// </summary>
    private void RecordEvent(JsonObject pod, (string Type, string Reason, string Message) what)
    {
        var ns = pod["metadata"]!["namespace"]!.GetValue<string>();
        var podName = pod["metadata"]!["name"]!.GetValue<string>();
        var now = ObjectStore.Timestamp(time.GetUtcNow());
        try
        {
            WriteEvent(ns, podName, what, now);
        }
        catch (NamespaceGoneException)
        {
            // The pod's namespace was deleted during this pass: there is no pod left to tell about.
        }
    }

    private void WriteEvent(string ns, string podName, (string Type, string Reason, string Message) what, string now) =>
        store.Write(EventType, ns, $"{podName}.{what.Reason.ToLowerInvariant()}", existing => new JsonObject
        {
            ["metadata"] = new JsonObject(),
            ["involvedObject"] = new JsonObject { ["kind"] = "Pod", ["name"] = podName, ["namespace"] = ns, ["apiVersion"] = "v1" },
            ["type"] = what.Type,
            ["reason"] = what.Reason,
            ["message"] = what.Message,
            ["source"] = new JsonObject { ["component"] = "kubelet", ["host"] = NodeName },
            ["count"] = (ObjectStore.Number(existing?["count"]) ?? 0) + 1,
            ["firstTimestamp"] = existing?["firstTimestamp"]?.DeepClone() ?? now,
            ["lastTimestamp"] = now,
        });

    private static readonly ResourceType EventType = ResourceTypes.ByKind("v1", "Event")!;

    /// <summary>The container's output, line by line into its log (kubectl logs reads the same).</summary>
    private static async Task PumpAsync(StreamReader from, StreamWriter log)
    {
        try
        {
            while (await from.ReadLineAsync() is { } line)
                lock (log) log.WriteLine(line);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>HTTP readiness probes (GET path on the pod IP and the named or numbered port); without a probe, running is ready.</summary>
    private async Task ProbeAsync(JsonObject container, PodRuntime runtime, CancellationToken cancellationToken)
    {
        var probe = container["readinessProbe"] as JsonObject;
        var period = TimeSpan.FromSeconds(probe?["periodSeconds"]?.GetValue<int>() ?? 10);
        runtime.NextProbe = time.GetUtcNow() + period;
        if (probe?["httpGet"] is not JsonObject get) { runtime.Ready = true; return; }
        var port = get["port"] is JsonValue p && p.TryGetValue<int>(out var number) ? number
            : (container["ports"] as JsonArray ?? []).OfType<JsonObject>()
                .FirstOrDefault(c => c["name"]?.GetValue<string>() == get["port"]?.GetValue<string>())?["containerPort"]?.GetValue<int>() ?? 0;
        bool success;
        try
        {
            using var response = await prober.GetAsync($"http://{runtime.Ip}:{port}{get["path"]?.GetValue<string>() ?? "/"}", cancellationToken);
            success = (int)response.StatusCode is >= 200 and < 400;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            success = false;
        }
        if (success)
        {
            runtime.ProbeFailures = 0;
            runtime.Ready = true;
        }
        else if (++runtime.ProbeFailures >= (probe["failureThreshold"]?.GetValue<int>() ?? 3) || !runtime.Ready)
        {
            runtime.Ready = false;
        }
    }

    private void WriteStatus(JsonObject pod, PodRuntime runtime)
    {
        var container = (pod["spec"]?["containers"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault();
        var state = runtime.Running
            ? new JsonObject { ["running"] = new JsonObject { ["startedAt"] = runtime.StartedAt } }
            : new JsonObject
            {
                ["waiting"] = new JsonObject
                {
                    ["reason"] = runtime.Waiting?.Reason ?? "ContainerCreating",
                    ["message"] = runtime.Waiting?.Message ?? ""
                }
            };
        var containerStatus = new JsonObject
        {
            ["name"] = container?["name"]?.DeepClone(),
            ["image"] = container?["image"]?.DeepClone(),
            ["ready"] = runtime.Ready,
            ["started"] = runtime.Running,
            ["restartCount"] = runtime.Restarts,
            ["state"] = state,
        };
        if (runtime.LastTerminated is not null) containerStatus["lastState"] = new JsonObject { ["terminated"] = runtime.LastTerminated.DeepClone() };
        var status = new JsonObject
        {
            ["phase"] = runtime.Running || runtime.Restarts > 0 ? "Running" : "Pending",
            ["hostIP"] = "127.0.0.1",
            ["podIP"] = runtime.Ip,
            ["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = "Ready",
                ["status"] = runtime.Ready ? "True" : "False",
                ["reason"] = runtime.Ready ? null : "ContainersNotReady",
                ["message"] = runtime.Ready ? null : $"containers with unready status: [{container?["name"]}]",
            }),
            ["containerStatuses"] = new JsonArray(containerStatus),
        };
        if (JsonNode.DeepEquals(pod["status"], status)) return;
        // Only while the pod exists: one deleted during this pass (its namespace went) stays deleted.
        store.Update(ResourceTypes.Pod, runtime.Namespace, runtime.Name, stored =>
        {
            stored["status"] = status;
            stored["spec"]!["nodeName"] = NodeName;
            return stored;
        });
    }

    /// <summary>Graceful termination: SIGTERM to the container's group once, SIGKILL after the grace period.</summary>
    private Task TerminateAsync(PodRuntime runtime)
    {
        if (runtime.BuiltIn) { runtime.BuiltIn = false; runtime.Ready = false; return Task.CompletedTask; }
        if (!runtime.Running) return Task.CompletedTask;
        var now = time.GetUtcNow();
        if (runtime.TerminatingSince is null)
        {
            runtime.TerminatingSince = now;
            Posix.kill(-runtime.Lifeline!.Id, 15);
            logger.LogInformation("Pod {Namespace}/{Pod}: terminating", runtime.Namespace, runtime.Name);
        }
        else if (now - runtime.TerminatingSince > TerminationGrace) Posix.kill(-runtime.Lifeline!.Id, 9);
        return Task.CompletedTask;
    }

    private async Task StopAsync(PodRuntime runtime, bool immediately)
    {
        runtime.BuiltIn = false;
        if (runtime.Lifeline is { } lifeline)
        {
            if (!lifeline.HasExited)
            {
                Posix.kill(-lifeline.Id, 15);
                using var grace = new CancellationTokenSource(immediately ? TimeSpan.FromSeconds(5) : TerminationGrace);
                try { await lifeline.WaitForExitAsync(grace.Token); }
                catch (OperationCanceledException) { Posix.kill(-lifeline.Id, 9); await lifeline.WaitForExitAsync(CancellationToken.None); }
            }
            lifeline.Dispose();
            runtime.Lifeline = null;
        }
        if (runtime.Token is { } token) tokens.Revoke(token);
        runtime.Log?.Dispose();
        runtime.Log = null;
        // The pod's files include its service-account token and the bootstrap token: they go with it.
        try { if (Directory.Exists(runtime.Directory)) Directory.Delete(runtime.Directory, recursive: true); }
        catch (IOException) { }
    }

    private static void WriteSecretFiles(string directory, JsonObject? secret, int mode)
    {
        Directory.CreateDirectory(directory);
        foreach (var (key, value) in secret?["data"] as JsonObject ?? [])
        {
            var file = Path.Combine(directory, key);
            File.WriteAllBytes(file, Convert.FromBase64String(value?.GetValue<string>() ?? ""));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, (UnixFileMode)(mode & 0x1FF) | UnixFileMode.UserRead);
        }
    }

    /// <summary>A path inside the pod's root, for an absolute path as the container sees it.</summary>
    private static string Within(string root, string containerPath) => Path.Combine(root, containerPath.TrimStart('/'));

    /// <summary>A pod IP of its own, on the loopback range (every 127.x address reaches this machine): the simulated pod network.</summary>
    private string NewPodIp()
    {
        while (true)
        {
            var bytes = RandomNumberGenerator.GetBytes(3);
            var ip = $"127.{64 + (bytes[0] & 63)}.{bytes[1]}.{Math.Max((int)bytes[2], 2)}";
            if (pods.Values.All(p => p.Ip != ip) && PortsFree(ip)) return ip;
        }
    }

    private static bool PortsFree(string ip)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(ip), 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Key(JsonObject pod) => $"{pod["metadata"]?["namespace"]}/{pod["metadata"]?["name"]}";

    /// <summary>Stops every container (the node is going away); their pods stay in the store for the next kubelet to replace.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(pods.Values.Select(p => StopAsync(p, immediately: false)));
        pods.Clear();
        prober.Dispose();
    }
}
