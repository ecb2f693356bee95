using Cogrion.Jobs;

namespace Cogrion.Portal.Infrastructure.Jobs;

/// <summary>
/// Lets a page follow job changes without polling: it listens to the engine's notifications
/// (<see cref="JobEvents"/>, fed by the replica's one LISTEN connection) and calls the page back at
/// most once per <c>minimumInterval</c>, however many jobs change meanwhile; a burst of a thousand
/// completions costs the page one reload. Dispose it with the page.
/// </summary>
public sealed class LiveJobUpdates : IDisposable
{
    private readonly JobEvents events;
    private readonly Func<JobNotification, bool> relevant;
    private readonly Func<Task> refresh;
    private readonly TimeSpan minimumInterval;
    private readonly CancellationTokenSource disposed = new();
    private int scheduled;

    public LiveJobUpdates(JobEvents events, Func<JobNotification, bool> relevant, TimeSpan minimumInterval, Func<Task> refresh)
    {
        this.events = events;
        this.relevant = relevant;
        this.minimumInterval = minimumInterval;
        this.refresh = refresh;
        events.Received += OnReceived;
    }

    private void OnReceived(JobNotification notification)
    {
        if (notification.Kind != JobNotificationKind.Resynchronize && !relevant(notification)) return;
        // Only the first change of a quiet period schedules a refresh; the ones after it ride along.
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
        events.Received -= OnReceived;
        disposed.Cancel();
        disposed.Dispose();
    }
}
