namespace Cogrion.Portal.Infrastructure.Database;

/// <summary>
/// Calls a page back at most once per <c>minimumInterval</c>, however many changes are reported
/// meanwhile: the first report of a quiet period schedules a refresh, the ones after it ride along.
/// A burst of a thousand changes costs the page one reload. Dispose it with the page.
/// </summary>
public sealed class CoalescedRefresh(TimeSpan minimumInterval, Func<Task> refresh) : IDisposable
{
    private readonly CancellationTokenSource disposed = new();
    private int scheduled;

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
            await Task.Delay(minimumInterval, disposed.Token);
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
