namespace Cogrion.Portal.Infrastructure.Database;

/// <summary>
/// Calls a page back at most once per <c>minimumInterval</c>, however many changes are reported
/// meanwhile: the first report after a quiet period refreshes at once (a status change shows without
/// waiting out the interval), and the reports during the interval after it ride along on one refresh
/// at its end. A burst of a thousand changes costs the page two reloads. Dispose it with the page.
/// </summary>
public sealed class CoalescedRefresh(TimeSpan minimumInterval, Func<Task> refresh) : IDisposable
{
    private readonly CancellationTokenSource disposed = new();
    private int scheduled;
    /// <summary>When the last refresh started (a Stopwatch timestamp; 0: never).</summary>
    private long lastRefresh;

    /// <summary>Something the page shows may have changed. Returns at once (safe on a notification thread).</summary>
    public void Request()
    {
        if (Interlocked.Exchange(ref scheduled, 1) == 1) return;
        _ = RefreshSoonAsync();
    }

    private async Task RefreshSoonAsync()
    {
        try
        {
            // Off the caller's (the notification's) thread before the page's work.
            await Task.Yield();
            var sinceLast = Interlocked.Read(ref lastRefresh) is var last and not 0
                ? System.Diagnostics.Stopwatch.GetElapsedTime(last) : TimeSpan.MaxValue;
            if (sinceLast < minimumInterval) await Task.Delay(minimumInterval - sinceLast, disposed.Token);
            Interlocked.Exchange(ref lastRefresh, System.Diagnostics.Stopwatch.GetTimestamp());
            Interlocked.Exchange(ref scheduled, 0);
            await refresh();
        }
        catch (OperationCanceledException)
        {
            // The page went away.
        }
        catch (ObjectDisposedException)
        {
            // The page went away while refreshing.
        }
    }

    public void Dispose()
    {
        disposed.Cancel();
        disposed.Dispose();
    }
}
