using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Failover;

/// <summary>
/// An agent speaking protocol v1 through the proxy, as the real agent does: it long-polls, verifies
/// each command's signature with the key it pinned at registration, reports the result (retrying
/// until the Portal has it, so a result lost with a dead replica is sent again), and only then polls
/// again. It counts every arrival of every command id, so a duplicate on the wire cannot hide.
/// Its affinity cookie decides which replica the proxy sends it to.
/// </summary>
public sealed class FailoverAgent : IAsyncDisposable
{
    private readonly ProtocolAgent protocol;
    private readonly ECDsa pinned;
    private readonly string accessToken;
    private readonly CancellationTokenSource stop = new();
    private Task loop = Task.CompletedTask;
    private int errors;

    public Guid TenantId { get; }
    public Guid AgentId => protocol.AgentId;

    /// <summary>The replica (host:port) its affinity cookie sends it to while that replica lives.</summary>
    public string HomeReplica { get; }

    /// <summary>How many times each command id arrived (1 is right; 2 is a duplicate).</summary>
    public ConcurrentDictionary<Guid, int> Arrivals { get; } = new();

    /// <summary>When (Stopwatch timestamp) and from which replica each command first arrived.</summary>
    public ConcurrentDictionary<Guid, (long At, string? ServedBy)> FirstArrival { get; } = new();

    /// <summary>Failed polls or result reports (a replica dying under one counts here; the agent retries).</summary>
    public int Errors => errors;

    private FailoverAgent(ProtocolAgent protocol, ECDsa pinned, string accessToken, Guid tenantId, string homeReplica)
    {
        this.protocol = protocol;
        this.pinned = pinned;
        this.accessToken = accessToken;
        TenantId = tenantId;
        HomeReplica = homeReplica;
    }

    public static async Task<FailoverAgent> RegisterAsync(string proxyUrl, string connectionString, string affinity, string homeReplica)
    {
        var cookies = new CookieContainer();
        cookies.Add(new Uri(proxyUrl), new Cookie(NginxProxy.AffinityCookie, affinity));
        var http = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, UseCookies = true })
        {
            BaseAddress = new Uri(proxyUrl),
            Timeout = TimeSpan.FromSeconds(90),
        };
        var tenantId = Guid.NewGuid();
        var key = ProtocolKeys.Create();
        var response = await ProtocolAgent.RegisterRawAsync(http, await TestBootstrapTokens.MintAsync(connectionString, tenantId, Guid.NewGuid()),
            key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var protocol = new ProtocolAgent(http, key, (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.RegistrationResponse))!);
        Assert.True(ProtocolKeys.TryImportPublicKey(protocol.Registration.CommandPublicKey, out var pinned));
        var agent = new FailoverAgent(protocol, pinned!, await protocol.TokenAsync(), tenantId, homeReplica);
        agent.loop = Task.Run(() => agent.PollAsync(agent.stop.Token));
        return agent;
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var poll = Request(HttpMethod.Get, ProtocolV1.Commands + "?wait=20");
                using var response = await protocol.Http.SendAsync(poll, cancellationToken);
                if (response.StatusCode == HttpStatusCode.NoContent) continue;
                response.EnsureSuccessStatusCode();
                var servedBy = NginxProxy.ServedBy(response);
                var batch = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.CommandBatch, cancellationToken))!;
                var arrived = Stopwatch.GetTimestamp();
                foreach (var signed in batch.Commands)
                {
                    if (!Jws.TryVerify(signed, ProtocolJson.Default.CommandEnvelope, ProtocolV1.CommandJwsType, pinned, out var command)
                        || command!.AgentId != AgentId)
                        throw new InvalidOperationException("A command failed verification with the key pinned at registration.");
                    if (Arrivals.AddOrUpdate(command.Id, 1, (_, n) => n + 1) == 1) FirstArrival[command.Id] = (arrived, servedBy);
                    await ReportAsync(command.Id, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
            {
                Interlocked.Increment(ref errors);
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Reports success until the Portal has it: a command left pending would be handed out again.</summary>
    private async Task ReportAsync(Guid commandId, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                using var request = Request(HttpMethod.Post, ProtocolV1.CommandResult(commandId));
                request.Content = JsonContent.Create(new CommandResult(CommandOutcomes.Succeeded, "failover test", null),
                    ProtocolJson.Default.CommandResult);
                using var response = await protocol.Http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException
                || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // The replica died under the report; the proxy sends the next one elsewhere.
            }
            Interlocked.Increment(ref errors);
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
        }
        protocol.Dispose();
        pinned.Dispose();
        stop.Dispose();
    }
}
