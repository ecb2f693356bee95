using System.Diagnostics;
using System.Globalization;
using System.Net;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Support;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Support;

/// <summary>
/// Issue 16's figure: from a tenant admin's revoke to the agent enforcing it (the real agent binary has recorded the
/// grant as ended in its state Secret and reported the support.revoke command), over COGRION_BENCH_SUPPORT_GRANTS
/// grants (default 100), each approved with a passkey signature the agent verified. The fleet is loaded meanwhile:
/// COGRION_BENCH_SUPPORT_FLEET other agents (default 200, protocol-level) long-poll the same Portal, and commands
/// for them are enqueued and answered at COGRION_BENCH_SUPPORT_RATE per second (default 50).
/// </summary>
public sealed class SupportRevokeBench
{
    private static int Setting(string name, int fallback) =>
        int.Parse(Environment.GetEnvironmentVariable(name) ?? fallback.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    [BenchFact("support")]
    public async Task Revoke_to_enforcement()
    {
        var grants = Setting("COGRION_BENCH_SUPPORT_GRANTS", 100);
        var fleetSize = Setting("COGRION_BENCH_SUPPORT_FLEET", 200);
        var rate = Setting("COGRION_BENCH_SUPPORT_RATE", 50);
        // A fleet registers from one address: the per-address and per-agent rate limits are not what is measured.
        await using var world = await SupportScenario.StartAsync(new Dictionary<string, string?>
        {
            ["Agents:AgentPermitsPerMinute"] = "1000000",
            ["Agents:AnonymousPermitsPerMinute"] = "1000000",
        });
        using var stop = new CancellationTokenSource();
        var fleet = await Task.WhenAll(Enumerable.Range(0, fleetSize).Select(async _ =>
            await ProtocolAgent.RegisterAsync(world.Scenario.Portal.BaseUrl,
                await TestBootstrapTokens.MintAsync(world.Scenario.ConnectionString, Guid.NewGuid(), Guid.NewGuid()))));
        var answered = 0L;
        var pollers = fleet.Select(agent => PollAsync(agent, () => Interlocked.Increment(ref answered), stop.Token)).ToList();
        var load = EnqueueLoadAsync(world, fleet, rate, stop.Token);

        var queue = world.Get<AgentCommandQueue>();
        var requests = world.Get<SupportRequests>();
        var latencies = new List<double>();
        for (var i = 0; i < grants; i++)
        {
            var request = await world.RequestAsync();
            var granted = await world.ApproveAsync(request);
            Assert.Equal(GrantDelivery.Recorded, granted.Grant);
            var started = Stopwatch.GetTimestamp();
            Assert.True((await requests.RevokeAsync(world.TenantId, request.Id, world.ApproverActor, default)).Succeeded);
            var revoke = (await queue.HistoryAsync(world.Scenario.AgentId, 20, default)).First(c => c.Type == CommandTypes.SupportRevoke
                && c.IdempotencyKey == $"support-end:{request.Id:N}");
            // The agent reports the command only after it has saved the grant as ended: its report is the enforcement.
            while ((await queue.AnswerAsync(world.TenantId, revoke.Id, default))!.Status == "pending") await Task.Delay(5);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        await stop.CancelAsync();
        await load;
        await Task.WhenAll(pollers);
        foreach (var agent in fleet) agent.Dispose();
        var sorted = latencies.Order().ToArray();
        double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        var report = string.Join('\n',
            $"grants: {sorted.Length}, fleet: {fleetSize} long-polling agents, fleet commands answered meanwhile: {Interlocked.Read(ref answered)}",
            $"revoke to enforcement p50 ms: {P(0.50):0}, p99 ms: {P(0.99):0}, max ms: {sorted[^1]:0}",
            $"support: revoke p99 ms: {P(0.99):0}");
        await File.WriteAllTextAsync(Environment.GetEnvironmentVariable("COGRION_BENCH_SUPPORT")!, report + "\n");
    }

    /// <summary>One fleet agent: long polls, and answers every command it gets (at least once, as the real agent does).</summary>
    private static async Task PollAsync(ProtocolAgent agent, Action answered, CancellationToken stop)
    {
        try
        {
            var token = await agent.TokenAsync();
            while (!stop.IsCancellationRequested)
            {
                using var response = await agent.SendAsync(HttpMethod.Get, ProtocolV1.Commands + "?wait=20", token);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    token = await agent.TokenAsync();
                    continue;
                }
                if (response.StatusCode != HttpStatusCode.OK) continue;
                var batch = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync(response.Content,
                    ProtocolJson.Default.CommandBatch,
                    stop);
                foreach (var signed in batch!.Commands)
                {
                    Jws.TryReadUnverified(signed, ProtocolJson.Default.CommandEnvelope, out _, out var command);
                    using var result = await agent.SendAsync(HttpMethod.Post, ProtocolV1.Commands + $"/{command!.Id}/result", token,
                        System.Net.Http.Json.JsonContent.Create(new CommandResult(CommandOutcomes.Succeeded, "ok", null),
                            ProtocolJson.Default.CommandResult));
                    answered();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException)
        {
        }
    }

    private static async Task EnqueueLoadAsync(SupportScenario world, IReadOnlyList<ProtocolAgent> fleet, int rate, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(world.Scenario.ConnectionString);
        var tenants = (await connection.QueryAsync<(Guid Id, Guid Tenant)>("select id, tenant_id from agents"))
            .ToDictionary(a => a.Id, a => a.Tenant);
        var queue = world.Get<AgentCommandQueue>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / Math.Max(1, rate)));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var agent = fleet[Random.Shared.Next(fleet.Count)];
                await queue.EnqueueAsync(new NewAgentCommand(tenants[agent.AgentId], agent.AgentId, CommandTypes.ReportInventory),
                    Actor.System("bench"), stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
