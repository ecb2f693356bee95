using System.Diagnostics;

namespace Cogrion.Bench.Jobs;

/// <summary>What both engines are measured with, the same way.</summary>
public static class Measure
{
    /// <summary>Counts the commands an engine sends (Npgsql reports each one as an Activity) while nothing happens.</summary>
    public static async Task<long> CountQueriesAsync(TimeSpan span)
    {
        long queries = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity => { if (activity.Kind == ActivityKind.Client) Interlocked.Increment(ref queries); },
        };
        ActivitySource.AddActivityListener(listener);
        await Task.Delay(span);
        return Interlocked.Read(ref queries);
    }

    public static double Percentile(IReadOnlyList<double> values, int percentile)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        var index = (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }

    /// <summary>
    /// One job at a time into an idle engine: the time from just before the enqueue call to the
    /// handler starting, on this process's clock (both engines run their handlers in this process).
    /// </summary>
    public static async Task<List<double>> IdleLatenciesAsync(int samples, Func<long, Task> enqueueProbe, StartedProbes started)
    {
        var latencies = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var seen = started.Expect(i);
            var before = Stopwatch.GetTimestamp();
            await enqueueProbe(i);
            var at = await seen.WaitAsync(TimeSpan.FromMinutes(2));
            latencies.Add(Stopwatch.GetElapsedTime(before, at).TotalMilliseconds);
            // Idle again before the next one: the engine is back waiting.
            await Task.Delay(20);
        }
        return latencies;
    }
}

/// <summary>Where a probe job reports the moment its handler started.</summary>
public sealed class StartedProbes
{
    public static StartedProbes Shared { get; } = new();

    private readonly Dictionary<long, TaskCompletionSource<long>> waiting = [];

    public Task<long> Expect(long probe)
    {
        var started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (waiting) waiting[probe] = started;
        return started.Task;
    }

    public void Started(long probe)
    {
        var now = Stopwatch.GetTimestamp();
        lock (waiting)
        {
            if (waiting.Remove(probe, out var started)) started.TrySetResult(now);
        }
    }
}

/// <summary>One engine's figures, as the summary prints them.</summary>
public sealed record EngineFigures(string Engine, double Throughput16, double IdleP50, double IdleP99, double IdleQueriesPerSecond);
