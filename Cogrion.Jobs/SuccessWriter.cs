using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Cogrion.Jobs;

/// <summary>
/// Records successful attempts in batches. While one write is on its way to the database, the
/// successes that arrive meanwhile wait and go together in the next statement: when jobs are
/// short and many, one commit covers many of them (the throughput of the engine is bound by
/// commits); when the replica is idle, a success is written at once, alone, with no added delay.
/// </summary>
internal sealed class SuccessWriter : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private readonly JobOutcomes outcomes;
    private readonly ILogger<SuccessWriter> logger;
    private readonly Channel<Pending> pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task loop;

    private sealed record Pending(ClaimedJob Job, string WorkerId, TaskCompletionSource<bool> Recorded);

    public SuccessWriter(JobOutcomes outcomes, ILogger<SuccessWriter> logger)
    {
        this.outcomes = outcomes;
        this.logger = logger;
        loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>True when recorded; false when the job was no longer this worker's (its lease had been reclaimed).</summary>
    public Task<bool> SucceedAsync(ClaimedJob job, string workerId, CancellationToken cancellationToken)
    {
        var recorded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!pending.Writer.TryWrite(new Pending(job, workerId, recorded)))
            throw new ObjectDisposedException(nameof(SuccessWriter));
        return recorded.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await pending.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && pending.Reader.TryRead(out var next)) batch.Add(next);
            foreach (var byWorker in batch.GroupBy(p => p.WorkerId))
            {
                var items = byWorker.ToList();
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                    var recorded = await outcomes.SucceedAsync(items.Select(p => p.Job).ToList(), byWorker.Key, timeout.Token);
                    foreach (var item in items) item.Recorded.TrySetResult(recorded.Contains(item.Job.Id));
                }
                catch (Exception ex)
                {
                    logger.LogWarning("Could not record {Count} successful job(s): {Error}", items.Count, ex.Message);
                    foreach (var item in items) item.Recorded.TrySetException(ex);
                }
            }
            batch.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        pending.Writer.TryComplete();
        await loop;
    }
}
