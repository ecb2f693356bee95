using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Infrastructure.Jobs;

/// <summary>
/// Lets a page follow job changes without polling: it listens to the engine's notifications
/// (<see cref="JobEvents"/>, fed by the replica's one LISTEN connection) and calls the page back at
/// most once per <c>minimumInterval</c> (<see cref="CoalescedRefresh"/>). Job notifications carry job
/// ids only, so a tenant's page filters on the jobs it shows; to follow a tenant's rows use
/// <see cref="TenantChanges"/>. Dispose it with the page.
/// </summary>
public sealed class LiveJobUpdates : IDisposable
{
    private readonly JobEvents events;
    private readonly Func<JobNotification, bool> relevant;
    private readonly CoalescedRefresh refresh;

    public LiveJobUpdates(JobEvents events, Func<JobNotification, bool> relevant, TimeSpan minimumInterval, Func<Task> refresh)
    {
        this.events = events;
        this.relevant = relevant;
        this.refresh = new CoalescedRefresh(minimumInterval, refresh);
        events.Received += OnReceived;
    }

    private void OnReceived(JobNotification notification)
    {
        if (notification.Kind != JobNotificationKind.Resynchronize && !relevant(notification)) return;
        refresh.Request();
    }

    public void Dispose()
    {
        events.Received -= OnReceived;
        refresh.Dispose();
    }
}
