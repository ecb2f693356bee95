namespace Cogrion.Jobs;

/// <summary>
/// An auto-reset signal that folds many wake-ups into one: a burst of a thousand NOTIFYs while the
/// pool is busy claiming leads to one more claim, not a thousand.
/// </summary>
internal sealed class WakeSignal
{
    private readonly SemaphoreSlim semaphore = new(0, 1);

    public void Set()
    {
        try
        {
            semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already set: the pending wake-up covers this one too.
        }
    }

    /// <summary>A wake-up is pending: the next wait returns at once.</summary>
    public bool IsSet => semaphore.CurrentCount > 0;

    /// <summary>True when woken, false when the timeout passed first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        semaphore.WaitAsync(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout, cancellationToken);
}
