using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cogrion.Portal.Features.Offboarding;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Workspaces;

namespace Cogrion.Portal.Tests.Offboarding;

/// <summary>Runs only when bench/offboarding.sh asks for it (it names the result file in COGRION_BENCH_OFFBOARDING).</summary>
public sealed class OffboardingBenchFactAttribute : FactAttribute
{
    public OffboardingBenchFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("COGRION_BENCH_OFFBOARDING"))) Skip = "A benchmark: run bench/offboarding.sh.";
    }
}

/// <summary>
/// bench/offboarding.sh: a tenant with 3 sandbox workspaces (2 destroyed, 1 kept) and 5 catalog apps, offboarded from the start to the purge
/// with real agents. The Portal's overhead is the wall time minus the time the simulator's tofu processes ran (the union of the destroy
/// runs' stage intervals: the cloud's own pace, simulated).
/// </summary>
public sealed class OffboardingBench
{
    [OffboardingBenchFact]
    public async Task Offboard_a_tenant_with_three_workspaces_and_five_apps()
    {
        await using var world = await SandboxInstallWorld.StartAsync(SandboxInstallWorld.RepositoryModules);
        var seeded = await OffboardingWorld.SeedAsync(world.ConnectionString, world.Portal.Services, root: world.TenantId, slug: "install");
        var plan = new (string Name, string Cidr, WorkspaceFate Fate, string[] Apps)[]
        {
            ("north", "10.40.0.0/16", WorkspaceFate.Destroy, ["superset", "mlflow"]),
            ("south", "10.41.0.0/16", WorkspaceFate.Destroy, ["trino", "jupyterhub"]),
            ("kept", "10.42.0.0/16", WorkspaceFate.Keep, ["airflow"]),
        };
        var ids = new Dictionary<string, Guid>();
        foreach (var w in plan) ids[w.Name] = await world.CreateWorkspaceAsync(w.Name, w.Cidr);
        var apps = world.Portal.Get<WorkspaceApps>();
        foreach (var w in plan)
        {
            var workspace = await world.WaitForStatusAsync(ids[w.Name], WorkspaceStatus.Ready);
            foreach (var app in w.Apps)
                Assert.True((await apps.InstallAsync(world.TenantId, workspace, app, null, null, null, SandboxInstallWorld.Admin,
                    CancellationToken.None))
                    .Succeeded);
        }
        foreach (var w in plan)
            foreach (var app in w.Apps)
                await Eventually.ValueAsync(() => apps.FindAsync(world.TenantId, ids[w.Name], app, CancellationToken.None),
                    v => v?.Status.State == AppState.Ready, $"{app} to be Ready", OffboardingWorld.Deadline);

        var context = await OffboardingWorld.ContextAsync(world.Portal.Services, world.TenantId, seeded.Admin, TenantRole.Admin);
        var clock = Stopwatch.StartNew();
        var started = await world.Portal.Get<OffboardingCommands>().StartAsync(context,
            new OffboardingRequest("install", plan.ToDictionary(w => ids[w.Name], w => w.Fate), PurgeTiming.AfterRetention),
            Actor.User(seeded.Admin.Id, "install-admin"), CancellationToken.None);
        Assert.True(started.Succeeded);
        await OffboardingWorld.WaitForAsync(world.Portal.Services, started.Value, o => o.Status == OffboardingStatus.AwaitingPurge,
            "the offboarding");
        var untilCertificate = clock.Elapsed;
        // Read before the purge deletes them: when the simulator's tofu processes ran, per stage of each destroy run.
        var simulated = SimulatorTime(await world.QueryAsync<string>("select stage_timings::text from workspace_runs where kind = 'destroy'"));
        // Where the time went: each run of a step's job, in seconds from the first step's enqueue (a waiting step runs several times).
        var steps = await world.QueryAsync<string>("""
            select (j.arguments ->> 'step') || ' ' || string_agg(
                       to_char(extract(epoch from a.started_at - t0.at), 'FM990.0') || '-' || to_char(extract(epoch from a.finished_at - t0.at),
                       'FM990.0'), ' ' order by a.started_at)
            from jobs j join job_attempts a on a.job_id = j.id,
                 (select min(created_at) as at from jobs where kind = 'offboarding.step') t0
            where j.kind = 'offboarding.step' group by j.arguments ->> 'step' order by min(a.started_at)
            """);
        clock.Restart();
        Assert.True((await world.Portal.Get<OffboardingCommands>().PurgeNowAsync(started.Value, Actor.System("bench"), CancellationToken.None))
            .Succeeded);
        await OffboardingWorld.WaitForAsync(world.Portal.Services, started.Value, o => o.Status == OffboardingStatus.Purged, "the purge");
        var wall = untilCertificate + clock.Elapsed;
        var overhead = wall - simulated;
        var lines = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture,
                $"offboarding: 3 workspaces (2 destroyed, 1 kept), 5 apps, 2 tenants, purged at once by a platform admin")
            .AppendLine(CultureInfo.InvariantCulture, $"offboarding: step runs (s from start): {string.Join("; ", steps)}")
            .AppendLine(CultureInfo.InvariantCulture, $"offboarding: wall s: {wall.TotalSeconds:F1}, simulator s: {simulated.TotalSeconds:F1}")
            .AppendLine(CultureInfo.InvariantCulture, $"offboarding: overhead s: {Math.Round(overhead.TotalSeconds):F0}");
        await File.WriteAllTextAsync(Environment.GetEnvironmentVariable("COGRION_BENCH_OFFBOARDING")!, lines.ToString());
    }

    /// <summary>The union of the stage intervals (destroy runs of two workspaces overlap: their shared time counts once).</summary>
    private static TimeSpan SimulatorTime(IEnumerable<string> timings)
    {
        var intervals = timings.SelectMany(t => JsonDocument.Parse(t).RootElement.EnumerateArray())
            .Select(e => (Start: e.GetProperty("startedAt").GetDateTimeOffset(),
                End: e.GetProperty("startedAt").GetDateTimeOffset().AddMilliseconds(e.GetProperty("durationMs").GetInt64())))
            .OrderBy(i => i.Start).ToList();
        var total = TimeSpan.Zero;
        DateTimeOffset? coveredUntil = null;
        foreach (var (start, end) in intervals)
        {
            var from = coveredUntil is { } covered && covered > start ? covered : start;
            if (end > from) total += end - from;
            if (coveredUntil is null || end > coveredUntil) coveredUntil = end;
        }
        return total;
    }
}
