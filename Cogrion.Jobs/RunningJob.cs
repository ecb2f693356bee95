namespace Cogrion.Jobs;

internal enum StopReason { None, CancelledByOperator, Shutdown }

/// <summary>A job in this replica's hands: its cancellation, and why it was asked to stop.</summary>
internal sealed class RunningJob(ClaimedJob job) : IDisposable
{
    private readonly CancellationTokenSource cancellation = new();
    private readonly TaskCompletionSource abandoned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int stopReason;

    public ClaimedJob Job { get; } = job;
    public CancellationToken Token => cancellation.Token;
    public StopReason StopReason => (StopReason)Volatile.Read(ref stopReason);

    /// <summary>Completes when the handler ignored a cancellation for longer than the grace period.</summary>
    public Task Abandoned => abandoned.Task;

    /// <summary>
    /// Asks the handler to stop, and gives up on it after <paramref name="gracePeriod"/>: .NET cannot
    /// abort a thread, so a handler that ignores its token is left to finish on its own, but the job is
    /// recorded as cancelled and its slot is freed (and it can no longer write to the job's log).
    /// </summary>
    public void Stop(StopReason reason, TimeSpan gracePeriod)
    {
        if (Interlocked.CompareExchange(ref stopReason, (int)reason, (int)StopReason.None) != (int)StopReason.None) return;
        try
        {
            // CancelAsync runs the handler's cancellation callbacks off the caller's thread: the caller
            // is the notification listener, which must never wait on a handler.
            _ = cancellation.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        _ = Task.Delay(gracePeriod).ContinueWith(_ => abandoned.TrySetResult(), TaskScheduler.Default);
    }

    public void Dispose() => cancellation.Dispose();
}
