using System.Collections.Concurrent;
using System.Diagnostics;
using Cogrion.Agent.Protocol;
using Cogrion.Jobs;
using Cogrion.Jobs.Diagnostics;
using Cogrion.Jobs.Tests;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Failover;

/// <summary>What a replica's death did, measured from outside (the proxy, the browsers, the agents, the database).</summary>
public sealed record FailoverOutcome
{
    /// <summary>Per agent that long-polled the killed replica: seconds from the kill until a command enqueued then reached it from another
    /// replica.</summary>
    public required IReadOnlyList<double> RepollSeconds { get; init; }
    public required int AgentsOnVictim { get; init; }
    /// <summary>Of those, the ones whose commands after the kill came from another replica.</summary>
    public required int AgentsMoved { get; init; }
    public required int CommandsEnqueued { get; init; }
    /// <summary>Enqueued but never arrived at their agent, or not recorded as succeeded.</summary>
    public required int Lost { get; init; }
    /// <summary>Arrivals of a command id beyond the first, at any agent.</summary>
    public required int Duplicated { get; init; }
    /// <summary>Commands the database handed out more than once (a response lost with the replica): informative, the agent never saw them
    /// twice.</summary>
    public required int Redelivered { get; init; }
    public required int Sessions { get; init; }
    /// <summary>Signed-in sessions of the killed replica whose next request was not answered as signed in.</summary>
    public required int SignedOut { get; init; }
    /// <summary>Sessions whose next request was answered by another replica.</summary>
    public required int SessionsMoved { get; init; }
    /// <summary>Pages whose Blazor circuit lived on the killed replica and came back interactive, still signed in.</summary>
    public required int CircuitsRestored { get; init; }
    /// <summary>Jobs the killed replica held: each one's final attempt, worker and the first attempt's outcome.</summary>
    public required IReadOnlyList<(int Attempts, string? FinalWorker, string FirstOutcome, string FinalState)> VictimJobs { get; init; }
    public required string VictimWorkerMarker { get; init; }
}

/// <summary>
/// Three real Portal processes, each with a home folder of its own (as pods have), behind Debian's
/// nginx with the shipped proxy rules, on one PostgreSQL and the dev identity provider. People sign in
/// and keep a page open, agents long-poll, jobs run; then one replica is SIGKILLed while commands keep
/// being enqueued (by a fourth, front-end-only Portal in this process, the production queue code).
/// Everything is observed from outside: nothing in the Portal knows it is being tested.
/// </summary>
public sealed class FailoverScenario : IAsyncDisposable
{
    private static readonly Dictionary<string, string?> ReplicaSettings = new()
    {
        // Short leases so a dead replica's jobs come back in seconds (production: 30 s).
        ["Jobs:WorkersPerReplica"] = "2",
        ["Jobs:LeaseDuration"] = "00:00:03",
        ["Jobs:HeartbeatInterval"] = "00:00:01",
        ["Jobs:ReaperInterval"] = "00:00:01",
        ["Jobs:PollInterval"] = "00:00:01",
        // Every agent and browser reaches the Portal from the proxy's one loopback address.
        ["Agents:AgentPermitsPerMinute"] = "1000000",
        ["Agents:AnonymousPermitsPerMinute"] = "1000000",
    };

    private readonly List<IAsyncDisposable> owned = [];
    private readonly List<string> homes = [];
    private readonly List<IBrowserContext> contexts = [];
    private readonly Action<string> say;
    private PostgresServer database = null!;
    private string databaseName = "";

    private FailoverScenario(Action<string> say) => this.say = say;

    public static FailoverScenario Create(Action<string>? say = null) => new(say ?? (_ => { }));

    public async Task<FailoverOutcome> RunAsync(int agentsPerReplica, int sessionsOnVictim, int jobs = 6)
    {
        database = await PostgresServer.GetAsync();
        databaseName = await database.CreateMigratedDatabaseAsync("failover");
        var connectionString = database.ConnectionString(databaseName);
        var replicaUrls = Enumerable.Range(0, 3).Select(_ => PortalProcess.NextBaseUrl()).ToList();
        var proxy = Own(await NginxProxy.StartAsync(replicaUrls));
        // The identity provider knows the Portal only by the proxy's address: a redirect URI built from
        // the replica's own address (forwarded headers ignored) would be refused.
        var idp = Own(await DevIdentityProvider.StartAsync([proxy.BaseUrl]));
        var replicas = new List<PortalProcess>();
        foreach (var url in replicaUrls)
        {
            var home = Directory.CreateTempSubdirectory("portal-home-").FullName;
            homes.Add(home);
            replicas.Add(Own(await PortalProcess.StartAsync(url, connectionString, idp.Authority, new Dictionary<string,
                string?>(ReplicaSettings)
            { ["HOME"] = home })));
        }
        var enqueuer = Own(await PortalServer.StartAsync(connectionString, overrides: new Dictionary<string,
            string?>
        { ["Jobs:RunWorkers"] = "false" }));
        var victim = replicas[0];
        var victimAuthority = new Uri(victim.BaseUrl).Authority;
        var affinities = new List<string>();
        foreach (var url in replicaUrls) affinities.Add(await AffinityForAsync(proxy, new Uri(url).Authority));
        say($"3 replicas behind nginx at {proxy.BaseUrl}; the one to be killed is {victimAuthority} (pid {victim.ProcessId})");

        // People signed in through the proxy, their browsers pinned to the victim, each with a page open.
        var browser = await BrowserHost.GetAsync();
        var pages = new List<IPage>();
        for (var i = 0; i < sessionsOnVictim; i++)
        {
            var context = await browser.NewContextAsync(new() { BaseURL = proxy.BaseUrl });
            contexts.Add(context);
            context.SetDefaultTimeout(30_000);
            await context.AddCookiesAsync([new Cookie { Name = NginxProxy.AffinityCookie, Value = affinities[0], Url = proxy.BaseUrl }]);
            var page = await context.NewPageAsync();
            await page.GotoAsync("/dashboard");
            await idp.SubmitLoginFormAsync(page, DevIdentityProvider.Alice);
            await page.WaitForURLAsync(url => url.StartsWith(proxy.BaseUrl + "/", StringComparison.Ordinal)
                && !url.Contains("/signin-oidc", StringComparison.Ordinal) && !url.EndsWith("/dashboard", StringComparison.Ordinal));
            await PortalStack.WaitUntilInteractiveAsync(page);
            var me = await context.APIRequest.GetAsync("/api/v1/me");
            Assert.Equal(200, me.Status);
            Assert.Equal(victimAuthority, me.Headers[NginxProxy.UpstreamHeader.ToLowerInvariant()]);
            pages.Add(page);
        }
        say($"{pages.Count} signed-in browser session(s) with a live circuit on the victim");

        // Agents on every replica; a first command to each proves it long-polls, and through which replica.
        var agents = new List<FailoverAgent>();
        for (var r = 0; r < replicas.Count; r++)
            for (var i = 0; i < agentsPerReplica; i++)
                agents.Add(OwnAgent(await FailoverAgent.RegisterAsync(proxy.BaseUrl, connectionString, affinities[r], new Uri(replicaUrls[r])
                    .Authority)));
        var queue = enqueuer.Get<AgentCommandQueue>();
        var enqueued = new ConcurrentDictionary<Guid, FailoverAgent>();
        var enqueuedAt = new ConcurrentDictionary<Guid, long>();
        async Task<Guid> EnqueueAsync(FailoverAgent agent)
        {
            var started = Stopwatch.GetTimestamp(); // the command exists only after this instant
            var command = await queue.EnqueueAsync(new NewAgentCommand(agent.TenantId, agent.AgentId, CommandTypes.ReportInventory),
                AgentScenario.Admin, CancellationToken.None);
            enqueued[command!.Id] = agent;
            enqueuedAt[command.Id] = started;
            return command.Id;
        }
        var warmUps = new List<(FailoverAgent Agent, Guid Command)>();
        foreach (var agent in agents) warmUps.Add((agent, await EnqueueAsync(agent)));
        await Eventually.ValueAsync(() => Task.FromResult(warmUps.Count(w => w.Agent.FirstArrival.ContainsKey(w.Command))), n => n == warmUps.Count,
            "every agent to receive its first command", TimeSpan.FromSeconds(120));
        foreach (var (agent, command) in warmUps) Assert.Equal(agent.HomeReplica, agent.FirstArrival[command].ServedBy);
        var onVictim = agents.Where(a => a.HomeReplica == victimAuthority).ToList();
        say($"{agents.Count} agents long-polling, {onVictim.Count} of them through the victim");

        // Jobs on every replica (two slots each); wait until the victim holds some.
        var jobDatabase = new JobTestDatabase { ConnectionString = connectionString };
        var jobIds = new List<long>();
        for (var i = 0; i < jobs; i++)
            jobIds.Add(await jobDatabase.EnqueueAsync(new DiagnosticEchoJob(Seconds: 12), JobTestDatabase.ByTest with { MaxAttempts = 3 }));
        var victimMarker = $":{victim.ProcessId}:";
        var victimJobs = await Eventually.ValueAsync(
            async () => (await Task.WhenAll(jobIds.Select(jobDatabase.JobAsync)))
                .Where(j => j.State == JobStates.Running && j.WorkerId?.Contains(victimMarker, StringComparison.Ordinal) == true).Select(j => j.Id)
                .ToList(),
            held => held.Count > 0, "the victim to run some of the jobs", TimeSpan.FromSeconds(60));
        say($"{jobIds.Count} jobs enqueued; the victim runs {victimJobs.Count}");

        foreach (var page in pages) await page.EvaluateAsync("() => { window.cogrionBeforeFailover = true; }");

        // Commands keep coming while the replica dies: every 50 ms one to a random agent.
        using var streaming = new CancellationTokenSource();
        var stream = Task.Run(async () =>
        {
            while (!streaming.IsCancellationRequested)
            {
                await EnqueueAsync(agents[Random.Shared.Next(agents.Count)]);
                await Task.Delay(50, CancellationToken.None);
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(1));

        using (var doomed = Process.GetProcessById(victim.ProcessId)) doomed.Kill(); // SIGKILL: no shutdown runs, nothing is handed over.
        var killedAt = Stopwatch.GetTimestamp();
        Assert.True(await victim.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var exitedAt = Stopwatch.GetTimestamp();
        say("victim killed with SIGKILL");
        // One command to each agent of the victim at the moment of death: when it arrives, the agent polls a live replica.
        var probes = new List<(FailoverAgent Agent, Guid Command)>();
        foreach (var agent in onVictim) probes.Add((agent, await EnqueueAsync(agent)));
        await Task.Delay(TimeSpan.FromSeconds(3));
        await streaming.CancelAsync();
        await stream;

        // Every command arrives, once, and the database has every result.
        int Arrived() => enqueued.Count(e => e.Value.Arrivals.ContainsKey(e.Key));
        try
        {
            await Eventually.ValueAsync(() => Task.FromResult(Arrived()), n => n == enqueued.Count, "every enqueued command to arrive",
                TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            // Reported as lost below.
        }
        await using var connection = new NpgsqlConnection(connectionString);
        var ids = enqueued.Keys.ToArray();
        int Unrecorded()
            => connection.ExecuteScalar<int>("select count(*) from agent_commands where id = any(@ids) and status <> 'succeeded'", new { ids });
        try
        {
            await Eventually.ValueAsync(() => Task.FromResult(Unrecorded()), n => n == 0, "every command's result to be recorded",
                TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            // Reported as lost below.
        }
        var lost = enqueued.Count(e => !e.Value.Arrivals.ContainsKey(e.Key)) + Unrecorded();
        var duplicated = agents.Sum(a => a.Arrivals.Values.Sum(n => n - 1));
        var redelivered = connection.ExecuteScalar<int>("select count(*) from agent_commands where id = any(@ids) and delivery_count > 1",
            new { ids });
        var repoll = probes.Where(p => p.Agent.FirstArrival.ContainsKey(p.Command))
            .Select(p => Stopwatch.GetElapsedTime(killedAt, p.Agent.FirstArrival[p.Command].At).TotalSeconds).ToList();
        // Moved: every command enqueued after the victim was gone reached the agent through another replica. (An arrival
        // timed after the kill can still be the victim's: it wrote the response just before it died, the agent read it after.)
        var moved = onVictim.Count(agent => agent.FirstArrival.Where(f => enqueuedAt[f.Key] > exitedAt).ToList() is { Count: > 0 } after
            && after.All(f => f.Value.ServedBy is { } served && served != victimAuthority));
        say($"{enqueued.Count} commands enqueued; {lost} lost, {duplicated} duplicated, {redelivered} handed out twice by the database");

        // Each signed-in person's next request: answered by another replica, still signed in.
        var signedOut = 0;
        var sessionsMoved = 0;
        foreach (var page in pages)
        {
            var me = await page.Context.APIRequest.GetAsync("/api/v1/me");
            if (me.Status != 200) signedOut++;
            if (me.Headers.TryGetValue(NginxProxy.UpstreamHeader.ToLowerInvariant(), out var served) && served != victimAuthority) sessionsMoved++;
        }

        // Each open page's circuit died with the replica: Blazor finds the circuit gone on the replica it
        // reconnects to and reloads the page, which comes back interactive and signed in.
        var restored = 0;
        foreach (var page in pages)
        {
            try
            {
                await page.WaitForFunctionAsync("() => window.cogrionBeforeFailover === undefined && " +
                    "document.querySelector('main[data-interactive=true]') !== null",
                    null, new() { Timeout = 90_000 });
                if (page.Url.StartsWith(proxy.BaseUrl, StringComparison.Ordinal)
                    && await page.GetByRole(AriaRole.Region, new() { Name = "Your account" }).GetByText("alice", new() { Exact = true })
                        .IsVisibleAsync())
                    restored++;
            }
            catch (TimeoutException)
            {
                say($"a page did not come back: {page.Url}");
            }
        }

        // The victim's jobs: its lease runs out, another replica runs them from the start.
        var victimJobOutcomes = new List<(int, string?, string, string)>();
        foreach (var id in victimJobs)
        {
            var done = await jobDatabase.WaitForStateAsync(id, JobStates.Succeeded, TimeSpan.FromSeconds(120));
            var attempts = await jobDatabase.AttemptsAsync(id);
            victimJobOutcomes.Add((done.Attempt, done.WorkerId, attempts[0].Outcome, done.State));
        }

        return new FailoverOutcome
        {
            RepollSeconds = repoll,
            AgentsOnVictim = onVictim.Count,
            AgentsMoved = moved,
            CommandsEnqueued = enqueued.Count,
            Lost = lost,
            Duplicated = duplicated,
            Redelivered = redelivered,
            Sessions = pages.Count,
            SignedOut = signedOut,
            SessionsMoved = sessionsMoved,
            CircuitsRestored = restored,
            VictimJobs = victimJobOutcomes,
            VictimWorkerMarker = victimMarker,
        };
    }

    /// <summary>An affinity cookie value that the proxy's consistent hash sends to <paramref name="authority"/>.</summary>
    private static async Task<string> AffinityForAsync(NginxProxy proxy, string authority)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri(proxy.BaseUrl) };
        for (var attempt = 0; attempt < 500; attempt++)
        {
            var value = Guid.NewGuid().ToString("N");
            using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
            request.Headers.Add("Cookie", $"{NginxProxy.AffinityCookie}={value}");
            using var response = await http.SendAsync(request);
            if (NginxProxy.ServedBy(response) == authority) return value;
        }
        throw new InvalidOperationException($"No affinity value reached {authority} in 500 tries: is it up?");
    }

    private T Own<T>(T disposable) where T : IAsyncDisposable
    {
        owned.Add(disposable);
        return disposable;
    }

    private FailoverAgent OwnAgent(FailoverAgent agent) => Own(agent);

    public async ValueTask DisposeAsync()
    {
        foreach (var context in contexts) await context.CloseAsync();
        // Agents first (they poll through the proxy), then the Portals, the identity provider and the proxy.
        for (var i = owned.Count - 1; i >= 0; i--) await owned[i].DisposeAsync();
        foreach (var home in homes)
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
        if (databaseName != "") await database.DropDatabaseAsync(databaseName);
    }
}
