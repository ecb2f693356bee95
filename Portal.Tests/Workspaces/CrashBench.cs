using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cogrion.Lifeline;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// bench/crash.sh: N SIGKILLs of a Portal process at random points of sandbox runs (state backend,
/// plan, apply, outputs), each followed by a new Portal on the same database and machine. Counts
/// processes the dead Portal left running once its lifelines' grace period is over (orphans), applies
/// of one state that overlapped (from the simulator's apply journal), and workspaces left inconsistent
/// (a run still working, or a workspace "provisioning" with no run, a minute after the restart; or a
/// retry that does not reach ready). A run is recovered when the workspace ends ready, after a retry
/// when the kill failed its run.
/// </summary>
public sealed class CrashBench
{
    private const double Speed = 40;
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    [BenchFact("crash")]
    public async Task Kill_the_portal_at_random_points_of_sandbox_runs()
    {
        var kills = Math.Max(10, int.Parse(Environment.GetEnvironmentVariable("COGRION_BENCH_KILLS") ?? "10", CultureInfo.InvariantCulture));
        var seed = int.Parse(Environment.GetEnvironmentVariable("COGRION_BENCH_SEED") ?? Environment.TickCount.ToString(CultureInfo.InvariantCulture),
            CultureInfo.InvariantCulture);
        var random = new Random(seed);
        var report = new StringBuilder();
        void Say(string line)
        {
            report.AppendLine(line);
            Console.WriteLine(line);
        }

        await using var world = await WorkspaceWorld.StartAsync(runWorkers: false);
        var settings = world.CrashableWorkerSettings(Speed);
        settings["OpenTofu:CancelGracePeriod"] = Grace.ToString();
        Task<PortalProcess> StartPortalAsync() => world.StartWorkerAsync(settings);

        Say($"crash bench: {kills} kills, seed {seed}, sandbox speed {Speed}, lifeline grace {Grace.TotalSeconds} s, lease 3 s");
        int recovered = 0, orphans = 0, doubleApplies = 0, stuck = 0, locksReleased = 0;
        var portal = await StartPortalAsync();
        var workspaces = new List<(Guid Tenant, Guid Id)>();
        // One account: its first run creates the state backend, the others plan and apply at once.
        var tenant = await world.NewTenantAsync("crash");
        var account = await world.NewAccountAsync(tenant);
        try
        {
            for (var i = 1; i <= kills; i++)
            {
                var workspace = (await world.Commands.CreateAsync(tenant,
                    WorkspaceWorld.Valid(account, $"crash-{i}", cidr: $"10.{i % 250}.0.0/16", approval: ApprovalMode.Automatic),
                        WorkspaceWorld.Operator, default)).Value!;
                workspaces.Add((tenant, workspace.Id));
                await Eventually.ValueAsync(() => LatestAsync(world, tenant, workspace.Id), r => r.Status != RunStatus.Queued, "the run to start",
                    TimeSpan.FromMinutes(2));

                // A random point of the run: plan and apply take about 15 s at this speed (the first run also creates the state backend).
                await Task.Delay(TimeSpan.FromSeconds(0.2 + random.NextDouble() * 14));
                var atKill = await LatestAsync(world, tenant, workspace.Id);
                var descendants = DescendantsOf(portal.ProcessId);
                Process.GetProcessById(portal.ProcessId).Kill();
                var sinceKill = Stopwatch.StartNew();
                await portal.WaitForExitAsync(TimeSpan.FromSeconds(30));
                await portal.DisposeAsync();

                // The lifelines end everything within their grace period, with no Portal alive at all.
                await Task.Delay(Grace + TimeSpan.FromSeconds(2));
                var left = descendants.Where(p => ProcessTable.Find(p.ProcessId) is { } now && now.StartTicks == p.StartTicks).ToList();
                orphans += left.Count;

                portal = await StartPortalAsync();
                var outcome = await RecoverAsync(world, tenant, workspace.Id, sinceKill);
                if (outcome.LockReleased) locksReleased++;
                if (outcome.Recovered) recovered++; else stuck++;
                var when = atKill.IsActive
                    ? $"{atKill.Status.ToText()}, stage {RunStages.Display(atKill.Stage)}"
                    : $"after the run ended ({atKill.Status.ToText()})";
                Say($"kill {i}/{kills}: {when}; {left.Count} process(es) left running; {outcome.Story}");
            }
        }
        finally
        {
            await portal.DisposeAsync();
        }

        foreach (var (_, id) in workspaces) doubleApplies += DoubleApplies(world, id);
        Say($"runs recovered: {recovered} of {kills}");
        Say($"orphaned processes found: {orphans}");
        Say($"concurrent applies seen: {doubleApplies}");
        Say($"workspaces left inconsistent: {stuck}");
        Say($"stale state locks released by hand: {locksReleased}");
        Say($"crash: kills {kills}, orphans {orphans}, double applies {doubleApplies}, stuck {stuck}");
        await File.WriteAllTextAsync(Environment.GetEnvironmentVariable("COGRION_BENCH_CRASH")!, report.ToString());
    }

    private sealed record Recovery(bool Recovered, bool LockReleased, string Story);

    /// <summary>After the restart: the run must end (within a minute), the workspace must say where it is, and a retry must make it ready.</summary>
    private static async Task<Recovery> RecoverAsync(WorkspaceWorld world, Guid tenant, Guid workspaceId, Stopwatch sinceKill)
    {
        var watch = sinceKill;
        WorkspaceRun ended;
        try
        {
            ended = await Eventually.ValueAsync(() => LatestAsync(world, tenant, workspaceId), r => !r.IsActive, "the run to end",
                TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            return new Recovery(false, false, "STUCK: the run never ended");
        }
        var workspace = (await world.Store.FindByNameAsync(tenant, (await NameOfAsync(world, tenant, workspaceId))!, default))!;
        if (workspace.Status is WorkspaceStatus.Provisioning or WorkspaceStatus.Updating or WorkspaceStatus.Destroying)
            return new Recovery(false, false, $"STUCK: workspace {workspace.Status.ToText()} with no run");
        var story = $"run {ended.Status.ToText()}{(ended.Status == RunStatus.Failed ? $" in {RunStages.Display(ended.Stage)}" : "")} " +
            $"{watch.Elapsed.TotalSeconds:0.0} s after the kill";
        var lockReleased = false;
        for (var attempt = 0; workspace.Status != WorkspaceStatus.Ready && attempt < 3; attempt++)
        {
            var last = await LatestAsync(world, tenant, workspaceId);
            if (last is { Status: RunStatus.Failed, StateLock: { } held })
            {
                lockReleased = true;
                var release = await world.Commands.ReleaseStateLockAsync(tenant, workspaceId, held.Id, workspace.Name, WorkspaceWorld.Operator,
                    default);
                if (!release.Succeeded) return new Recovery(false, true, $"{story}; STUCK: the lock release was refused");
                await Eventually.ValueAsync(() => LatestAsync(world, tenant, workspaceId), r => !r.IsActive, "the lock to be released",
                    TimeSpan.FromMinutes(2));
            }
            var failed = (await world.Store.RunsAsync(tenant, workspaceId, 10, default)).First(r => r.Kind != RunKind.Unlock);
            var retry = await world.Commands.RetryAsync(tenant, workspaceId, failed.Id, WorkspaceWorld.Operator, default);
            if (!retry.Succeeded) return new Recovery(false, lockReleased, $"{story}; STUCK: retry refused: {retry.Errors.For("run")}");
            WorkspaceRun retried;
            try
            {
                retried = await Eventually.ValueAsync(() => LatestAsync(world, tenant, workspaceId), r => r.Id != failed.Id && !r.IsActive,
                    "the retry to end", TimeSpan.FromMinutes(3));
            }
            catch (TimeoutException)
            {
                return new Recovery(false, lockReleased, $"{story}; STUCK: the retry never ended");
            }
            workspace = (await world.Store.FindByNameAsync(tenant, workspace.Name, default))!;
            story += $"; retry {retried.Status.ToText()}{(retried.Status == RunStatus.Failed ? $" ({retried.Error})" : "")}";
        }
        return new Recovery(workspace.Status == WorkspaceStatus.Ready, lockReleased, story + (lockReleased ? " (after releasing a stale lock)" : ""));
    }

    private static async Task<WorkspaceRun> LatestAsync(WorkspaceWorld world, Guid tenant, Guid workspaceId) =>
        (await world.Store.RunsAsync(tenant, workspaceId, 1, default))[0];

    private static Task<string?> NameOfAsync(WorkspaceWorld world, Guid tenant, Guid workspaceId) =>
        world.ScalarAsync<string>("select name from workspaces where tenant_id = @tenant and id = @workspaceId", new { tenant, workspaceId });

    /// <summary>Every process below <paramref name="root"/>, as it is now (pid and start time, so a recycled pid is not counted later).</summary>
    private static List<ProcessEntry> DescendantsOf(int root)
    {
        var all = ProcessTable.All().ToList();
        var found = new List<ProcessEntry>();
        var parents = new HashSet<int> { root };
        for (var grown = true; grown;)
        {
            var next = all.Where(p => parents.Contains(p.ParentId) && !parents.Contains(p.ProcessId)).ToList();
            grown = next.Count > 0;
            foreach (var p in next)
            {
                parents.Add(p.ProcessId);
                found.Add(p);
            }
        }
        return found;
    }

    /// <summary>Applies of the workspace's state that overlapped: one that started while another ran, or two journalled intervals that
    /// cross.</summary>
    private static int DoubleApplies(WorkspaceWorld world, Guid workspaceId)
    {
        var path = Path.Combine(world.StateRoot, workspaceId.ToString("n"), "terraform.tfstate.applies.jsonl");
        if (!File.Exists(path)) return 0;
        var journal = File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var concurrent = journal.Count(e => e["event"]!.GetValue<string>() == "start" && e["concurrent_with"]!.AsArray().Count > 0);
        var intervals = journal.GroupBy(e => e["apply"]!.GetValue<string>())
            .Select(g
                => (Start: DateTimeOffset.Parse(g.First(e => e["event"]!.GetValue<string>() == "start")["at"]!.GetValue<string>(),
                CultureInfo.InvariantCulture),
                          End: g.FirstOrDefault(e => e["event"]!.GetValue<string>() == "end")?["at"]?.GetValue<string>()))
            .OrderBy(i => i.Start).ToList();
        var crossing = 0;
        for (var i = 1; i < intervals.Count; i++)
            if (intervals[i - 1].End is { } end && DateTimeOffset.Parse(end, CultureInfo.InvariantCulture) > intervals[i].Start) crossing++;
        return Math.Max(concurrent, crossing);
    }
}
