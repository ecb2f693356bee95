using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.DataProtection;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Npgsql;

// bench/agents.sh runs this; see bench/README.md. Everything stays on 127.0.0.1.
var settings = Args.Parse(args);
if (settings.GenerateKey is { } keyFile)
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    return 0;
}

DapperConventions.Register();
using var overall = new CancellationTokenSource(settings.Deadline);
var ct = overall.Token;
var time = TimeProvider.System;
await using var dataSource = NpgsqlDataSource.Create(settings.ConnectionString);
var options = Options.Create(new AgentApiOptions { CommandSigningKey = File.ReadAllText(settings.SigningKeyFile!) });
var audit = new AuditLog(dataSource, new SecretRedactor([]), time, new HttpContextAccessor());
var keys = new CommandSigningKeyStore(new StoredSigningKeys(dataSource, DataProtectionProvider.Create("bench-unused"), time), options);
var enrollment = new AgentEnrollment(dataSource, keys, audit, options, time);
var queue = new AgentCommandQueue(dataSource, new CommandSigner(keys), new AgentCommandSignals(), audit, options, time, []);
var actor = Actor.System("bench");
if (settings.MintToken)
{
    // For bench/agent-footprint.sh: one bootstrap token for the real agent binary.
    Console.WriteLine((await enrollment.CreateBootstrapTokenAsync(Guid.NewGuid(), Guid.NewGuid(), actor, ct)).Token);
    return 0;
}
var portal = new PortalProbe(settings.PortalPid);

// One client per loopback source address: a connection is (source address, source port, Portal
// address, Portal port), so each extra source address brings another ~28,000 ephemeral ports.
var clients = Enumerable.Range(0, settings.SourceAddresses).Select(SourceBoundClient).ToArray();
HttpClient SourceBoundClient(int index)
{
    var source = new IPAddress([127, 0, (byte)(1 + settings.Shard), (byte)(1 + index)]);
    var handler = new SocketsHttpHandler
    {
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
        ConnectCallback = async (context, token) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
    return new HttpClient(handler) { BaseAddress = new Uri(settings.PortalUrl), Timeout = TimeSpan.FromSeconds(120) };
}
var shardLabel = settings.ShardDirectory is null ? "" : $"[shard {settings.Shard}] ";

Console.WriteLine($"{shardLabel}Ramping to {settings.Agents} agents against {settings.PortalUrl} (Portal pid {settings.PortalPid}) from " +
    $"{settings.SourceAddresses} source address(es)");
var ramp = Stopwatch.StartNew();
var agents = new SimulatedAgent[settings.Agents];
var latencies = new ConcurrentBag<double>();
var received = new ConcurrentDictionary<Guid, bool>();
var errors = 0;
var polling = new ConcurrentBag<Task>();
await Parallel.ForEachAsync(Enumerable.Range(0, settings.Agents), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct },
    async (i, token) =>
{
    // Five workspaces per tenant: audit chains are per tenant, as in production.
    var tenant = new Guid(i / 5 + 1, (short)settings.Shard, 0, [0, 0, 0, 0, 0, 0, 0, 1]);
    var http = clients[i % clients.Length];
    var bootstrap = await enrollment.CreateBootstrapTokenAsync(tenant, Guid.NewGuid(), actor, token);
    agents[i] = await SimulatedAgent.RegisterAsync(http, bootstrap.Token, token);
    // Each agent starts polling as soon as it is registered, as a real fleet ramps up: the long polls
    // then time out spread over 50 s instead of in one wave.
    polling.Add(agents[i].RunAsync(http, latencies, received, () => Interlocked.Increment(ref errors), ct));
    if ((i + 1) % 1000 == 0) Console.WriteLine($"  {shardLabel}{i + 1} registered ({ramp.Elapsed.TotalSeconds:0} s)");
});
Console.WriteLine($"{shardLabel}Registered {settings.Agents} agents and got their tokens in {ramp.Elapsed.TotalSeconds:0.0} s");

// Let every agent's first long poll reach the Portal and settle into waiting.
await Task.Delay(TimeSpan.FromSeconds(Math.Max(5, settings.Agents / 1000)), ct);
if (settings.ShardDirectory is { } shards)
{
    // Several load processes (bench/agents.sh starts one per ~9,000 agents: the machine allows 20,000
    // open files per process): each says it is ready, then waits for the script's "go", so every
    // shard's agents are long-polling before any command is enqueued.
    await File.WriteAllTextAsync(Path.Combine(shards, $"ready.{settings.Shard}"), "", ct);
    while (!File.Exists(Path.Combine(shards, "go"))) await Task.Delay(200, ct);
}
var idle = portal.Sample();
Console.WriteLine($"{shardLabel}All {settings.Agents} agents long-polling. Portal RSS {idle.RssMb:0} MB, threads {idle.Threads}");

Console.WriteLine($"{shardLabel}Enqueueing {settings.Commands} commands at {settings.Rate}/s to random agents");
var cpuBefore = portal.Sample();
var enqueueClock = Stopwatch.StartNew();
var enqueueDurations = new ConcurrentBag<double>();
var targets = Enumerable.Range(0, settings.Agents).OrderBy(_ => Random.Shared.Next()).Take(settings.Commands).ToArray();
var interval = TimeSpan.FromSeconds(1.0 / settings.Rate);
await Parallel.ForEachAsync(Enumerable.Range(0, targets.Length), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct },
    async (n, token) =>
{
    var due = interval * n - enqueueClock.Elapsed;
    if (due > TimeSpan.Zero) await Task.Delay(due, token);
    var agent = agents[targets[n % targets.Length]];
    var started = Stopwatch.GetTimestamp();
    await queue.EnqueueAsync(new NewAgentCommand(agent.TenantId, agent.AgentId, CommandTypes.ReportInventory), actor, token);
    enqueueDurations.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
});
var enqueueSeconds = enqueueClock.Elapsed.TotalSeconds;
while (received.Count < targets.Length && !ct.IsCancellationRequested) await Task.Delay(100, ct);
var busy = portal.Sample();

var sorted = latencies.OrderBy(l => l).ToArray();
double Percentile(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
var cpu = (busy.CpuSeconds - cpuBefore.CpuSeconds) / (enqueueClock.Elapsed.TotalSeconds) * 100;
Console.WriteLine($"{shardLabel}Delivered {sorted.Length}/{targets.Length} commands (enqueued in {enqueueSeconds:0.0} s); poll errors: {errors}");
Console.WriteLine($"{shardLabel}Enqueue (sign, insert, audit, notify, commit) ms: mean {enqueueDurations.DefaultIfEmpty().Average():0.0} max " +
    $"{enqueueDurations.DefaultIfEmpty().Max():0}");
Console.WriteLine($"{shardLabel}Delivery latency ms: p50 {Percentile(0.50):0} p90 {Percentile(0.90):0} p99 {Percentile(0.99):0} max " +
    $"{sorted.LastOrDefault():0}");
Console.WriteLine($"{shardLabel}Portal: RSS idle {idle.RssMb:0} MB, RSS after {busy.RssMb:0} MB, peak {busy.PeakRssMb:0} MB; CPU during delivery " +
    $"{cpu:0}% of one core; threads {busy.Threads}");
overall.Cancel();
if (settings.ShardDirectory is { } done)
{
    // The script merges every shard's latencies into one p99.
    await File.WriteAllLinesAsync(Path.Combine(done, $"latencies.{settings.Shard}"),
        sorted.Select(l => l.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)));
    return sorted.Length == targets.Length ? 0 : 1;
}
Console.WriteLine($"agents: {settings.Agents}, delivery p99 ms: {Percentile(0.99):0}");
return sorted.Length == targets.Length ? 0 : 1;

/// <summary>One agent: registered with its own key, long-polling, verifying and acknowledging what it gets.</summary>
sealed class SimulatedAgent
{
    public required Guid AgentId { get; init; }
    public required Guid TenantId { get; init; }
    public required string AccessToken { get; init; }
    public required ECDsa PortalKey { get; init; }

    public static async Task<SimulatedAgent> RegisterAsync(HttpClient http, string bootstrapToken, CancellationToken ct)
    {
        using var key = ProtocolKeys.Create();
        var response = await http.PostAsJsonAsync(ProtocolV1.Registrations,
            new RegistrationRequest(bootstrapToken, ProtocolKeys.ExportPublicKey(key), "bench", null), ProtocolJson.Default.RegistrationRequest, ct);
        response.EnsureSuccessStatusCode();
        var registration = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.RegistrationResponse, ct))!;
        var now = DateTimeOffset.UtcNow;
        var id = registration.AgentId.ToString();
        var assertion = Jws.Sign(new AssertionClaims(id, id, registration.TokenAudience, Guid.NewGuid().ToString("N"), now.ToUnixTimeSeconds(),
            now.AddMinutes(1).ToUnixTimeSeconds()),
            ProtocolJson.Default.AssertionClaims, ProtocolV1.AssertionJwsType, null, key);
        var tokenResponse = await http.PostAsJsonAsync(ProtocolV1.Token, new TokenRequest(assertion), ProtocolJson.Default.TokenRequest, ct);
        tokenResponse.EnsureSuccessStatusCode();
        var token = (await tokenResponse.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse, ct))!;
        ProtocolKeys.TryImportPublicKey(registration.CommandPublicKey, out var portalKey);
        return new SimulatedAgent
        {
            AgentId = registration.AgentId,
            TenantId = registration.TenantId,
            AccessToken = token.AccessToken,
            PortalKey = portalKey!
        };
    }

    public async Task RunAsync(HttpClient http, ConcurrentBag<double> latencies, ConcurrentDictionary<Guid, bool> received, Action onError,
        CancellationToken ct)
    {
        await Task.Yield();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, ProtocolV1.Commands + "?wait=50");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
                using var response = await http.SendAsync(request, ct);
                if (response.StatusCode == HttpStatusCode.NoContent) continue;
                response.EnsureSuccessStatusCode();
                var batch = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.CommandBatch, ct))!;
                var arrived = DateTimeOffset.UtcNow;
                foreach (var signed in batch.Commands)
                {
                    if (!Jws.TryVerify(signed, ProtocolJson.Default.CommandEnvelope, ProtocolV1.CommandJwsType, PortalKey, out var command)
                        || command!.AgentId != AgentId)
                        throw new InvalidOperationException("A command failed verification.");
                    if (received.TryAdd(command.Id, true)) latencies.Add((arrived - command.IssuedAt).TotalMilliseconds);
                    using var result = new HttpRequestMessage(HttpMethod.Post, ProtocolV1.CommandResult(command.Id))
                    {
                        Content = JsonContent.Create(new CommandResult(CommandOutcomes.Succeeded, "bench", null), ProtocolJson.Default.CommandResult),
                    };
                    result.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
                    (await http.SendAsync(result, ct)).Dispose();
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                onError();
                await Task.Delay(TimeSpan.FromSeconds(1 + Random.Shared.NextDouble()), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}

/// <summary>Reads the Portal process's memory and CPU from /proc.</summary>
sealed class PortalProbe(int pid)
{
    public sealed record Reading(double RssMb, double PeakRssMb, double CpuSeconds, int Threads);

    public Reading Sample()
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        double Kb(string field) => double.Parse(status.First(l => l.StartsWith(field + ":")).Split(':')[1].Trim().Split(' ')[0]) / 1024;
        var threads = int.Parse(status.First(l => l.StartsWith("Threads:")).Split(':')[1].Trim());
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of stat; after the ")" they are at 11 and 12 (0-based). Clock ticks are 100 Hz on Linux.
        var cpu = (double.Parse(fields[11]) + double.Parse(fields[12])) / 100.0;
        return new Reading(Kb("VmRSS"), Kb("VmHWM"), cpu, threads);
    }
}

sealed record Args(string PortalUrl, string ConnectionString, int Agents, int Commands, int Rate, string? SigningKeyFile, int PortalPid,
    TimeSpan Deadline,
    string? GenerateKey, bool MintToken, int SourceAddresses, int Shard, string? ShardDirectory)
{
    public static Args Parse(string[] args)
    {
        string? Get(string name) => args.SkipWhile(a => a != "--" + name).Skip(1).FirstOrDefault();
        return new Args(
            Get("portal") ?? "http://127.0.0.1:5080",
            Get("connection") ?? "",
            int.Parse(Get("agents") ?? "1000"),
            int.Parse(Get("commands") ?? "1000"),
            int.Parse(Get("rate") ?? "200"),
            Get("signing-key"),
            int.Parse(Get("portal-pid") ?? "0"),
            TimeSpan.FromSeconds(int.Parse(Get("deadline-seconds") ?? "900")),
            Get("generate-key"),
            args.Contains("--mint-token"),
            int.Parse(Get("source-addresses") ?? "1"),
            int.Parse(Get("shard") ?? "0"),
            Get("shard-dir"));
    }
}
