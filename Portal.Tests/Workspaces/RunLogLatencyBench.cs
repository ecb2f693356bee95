using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Cogrion.Jobs;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// bench/runlog.sh: the time from a line leaving tofu-sandbox (its own <c>@timestamp</c>, taken as it
/// writes the line) to the same line arriving at a listener subscribed the way the workspace page is:
/// <see cref="LiveJobUpdates"/> on the replica's job notifications, then the log query the page runs.
/// The path measured: simulator stdout → runner → job log insert + NOTIFY → LISTEN → page refresh → query.
/// (Not the last hop to a browser: the Blazor circuit's render diff over the WebSocket.)
/// </summary>
public sealed class RunLogLatencyBench
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> emitted = new();

    [BenchFact("runlog")]
    public async Task Run_log_lines_reach_a_watching_page_quickly()
    {
        var workspaces = int.Parse(Environment.GetEnvironmentVariable("COGRION_BENCH_RUNS") ?? "3", CultureInfo.InvariantCulture);
        await using var world = await WorkspaceWorld.StartAsync(runWorkers: true,
            new Dictionary<string, string?> { ["OpenTofu:SandboxSpeed"] = Environment.GetEnvironmentVariable("COGRION_BENCH_SPEED") ?? "100" },
            services => services.Replace(ServiceDescriptor.Singleton<ITofuCli>(provider =>
                new TimestampRecordingCli(ActivatorUtilities.CreateInstance<TofuProcessCli>(provider), emitted))));
        var events = world.Get<JobEvents>();
        var logs = world.Get<JobLogReader>();
        var latencies = new ConcurrentBag<double>();

        for (var i = 0; i < workspaces; i++)
        {
            var tenant = await world.NewTenantAsync($"bench-{i}");
            var account = await world.NewAccountAsync(tenant);
            var created = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, $"bench-{i}", approval: ApprovalMode.Automatic),
                Actor.System("bench"), default);
            var run = (await world.Store.RunsAsync(tenant, created.Value!.Id, 1, default))[0];
            var jobId = run.PlanJobId!.Value;
            long after = 0;
            var gate = new SemaphoreSlim(1, 1);
            // Exactly what the workspace page does for the run it shows.
            using var listener = new LiveJobUpdates(events, n => n.Kind is JobNotificationKind.Log && n.JobId == jobId,
                TimeSpan.FromMilliseconds(100), async () =>
            {
                await gate.WaitAsync();
                try
                {
                    var lines = await logs.ReadAsync(jobId, after, 5000, CancellationToken.None);
                    var arrived = DateTimeOffset.UtcNow;
                    foreach (var line in lines)
                    {
                        after = line.Id;
                        var text = line.Line.StartsWith('[') && line.Line.IndexOf("] ", StringComparison.Ordinal) is var end and > 0
                            ? line.Line[(end + 2)..] : line.Line;
                        if (emitted.TryGetValue(text, out var queue) && queue.TryDequeue(out var at))
                            latencies.Add((arrived - at).TotalMilliseconds);
                    }
                }
                finally
                {
                    gate.Release();
                }
            });
            await Eventually.ValueAsync(async () => (await world.Store.FindByNameAsync(tenant, $"bench-{i}", default))!.Status,
                s => s is WorkspaceStatus.Ready or WorkspaceStatus.Failed, "the run to end", TimeSpan.FromMinutes(5));
            // The listener has read the run's last line: a signal, not a pause for the last refresh.
            var lastLine = await logs.ReadAsync(jobId, 0, 5000, CancellationToken.None) is { Count: > 0 } all ? all[^1].Id : 0;
            await Eventually.ValueAsync(() => Task.FromResult(Volatile.Read(ref after)), read => read >= lastLine, "the page to show the last line");
        }

        var sorted = latencies.Order().ToArray();
        Assert.NotEmpty(sorted);
        double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        var report = string.Join('\n',
            $"runs: {workspaces}, lines matched: {sorted.Length}",
            $"p50 ms: {P(0.50):0}, p95 ms: {P(0.95):0}, p99 ms: {P(0.99):0}, max ms: {sorted[^1]:0}",
            $"runlog p95 ms: {P(0.95):0}");
        await File.WriteAllTextAsync(Environment.GetEnvironmentVariable("COGRION_BENCH_RUNLOG")!, report + "\n");
    }

    /// <summary>
    /// The real process boundary, noting for each line the simulator wrote when it wrote it, keyed by
    /// the text the runner will log for it (the same parser and formatter the runner uses).
    /// </summary>
    private sealed class TimestampRecordingCli(ITofuCli inner, ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> emitted) : ITofuCli
    {
        private readonly RunLogFormatter formatter = new(new SecretRedactor([]), TimeProvider.System);

        public async IAsyncEnumerable<TofuOutput> RunAsync(TofuInvocation invocation, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var output in inner.RunAsync(invocation, cancellationToken))
            {
                if (output is TofuOutputLine { FromStandardError: false } line && TofuUiParser.Parse(line.Text) is { Timestamp: { } at } message)
                    foreach (var formatted in formatter.Format(TofuStage.Apply, message))
                        emitted.GetOrAdd(formatted.Text, _ => new()).Enqueue(at);
                yield return output;
            }
        }
    }
}
