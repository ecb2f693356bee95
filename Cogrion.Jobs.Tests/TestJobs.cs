using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Cogrion.Jobs.Tests;

/// <summary>
/// What test handlers did, shared by every host in the test process. Each test uses its own
/// <c>Run</c> id, so tests running in parallel never see each other's entries.
/// </summary>
public static class JobLedger
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<Entry>> Entries = new();

    public sealed record Entry(long JobId, int Attempt, string Worker, string Event, DateTimeOffset At);

    public static void Add(string run, JobContext context, string @event) =>
        Entries.GetOrAdd(run, _ => new()).Enqueue(new Entry(context.JobId, context.Attempt, context.WorkerId, @event, DateTimeOffset.UtcNow));

    public static IReadOnlyList<Entry> For(string run) => Entries.TryGetValue(run, out var list) ? list.ToList() : [];

    public static string NewRun() => Guid.NewGuid().ToString("N");
}

/// <summary>Does nothing but note that it ran.</summary>
public sealed record CountingJob(string Run) : IJobArguments
{
    public static string Kind => "test.counting";
}

public sealed class CountingHandler : IJobHandler<CountingJob>
{
    public Task RunAsync(CountingJob arguments, JobContext context)
    {
        JobLedger.Add(arguments.Run, context, "ran");
        return Task.CompletedTask;
    }
}

/// <summary>Runs for a while (noting start and end), honouring cancellation unless told not to.</summary>
public sealed record SlowJob(string Run, int Milliseconds, bool IgnoreCancellation = false) : IJobArguments
{
    public static string Kind => "test.slow";
    static JobPolicy IJobArguments.Policy => new(2, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));
}

public sealed class SlowHandler : IJobHandler<SlowJob>
{
    public async Task RunAsync(SlowJob arguments, JobContext context)
    {
        JobLedger.Add(arguments.Run, context, "started");
        await context.AppendLogAsync($"sleeping {arguments.Milliseconds} ms");
        await Task.Delay(arguments.Milliseconds, arguments.IgnoreCancellation ? CancellationToken.None : context.CancellationToken);
        JobLedger.Add(arguments.Run, context, "finished");
    }
}

/// <summary>Always fails, with a short backoff so a test sees every attempt.</summary>
public sealed record FailingJob(string Run) : IJobArguments
{
    public static string Kind => "test.failing";
    static JobPolicy IJobArguments.Policy => new(3, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
}

public sealed class FailingHandler : IJobHandler<FailingJob>
{
    public Task RunAsync(FailingJob arguments, JobContext context)
    {
        JobLedger.Add(arguments.Run, context, "ran");
        throw new InvalidOperationException($"boom on attempt {context.Attempt}");
    }
}

public static class TestJobRegistration
{
    public static IServiceCollection AddTestJobs(this IServiceCollection services) => services
        .AddJobHandler<CountingHandler, CountingJob>()
        .AddJobHandler<SlowHandler, SlowJob>()
        .AddJobHandler<FailingHandler, FailingJob>();
}
