using System.Collections.Concurrent;

namespace Cogrion.Portal.Infrastructure.Database;

/// <summary>
/// Changes to a tenant's rows that its pages follow live, heard on the process's one LISTEN
/// connection (<see cref="PostgresNotifications"/>): triggers announce each change of a workspace, a
/// run or a cloud account as "<c>tenant:subject</c>" (migration 0045). A page listens to its tenant,
/// or to one subject of it (a workspace, an account), so a change reloads only the pages that show it:
/// the cost of a change is the number of tabs open on that tenant, not on the whole Portal.
/// </summary>
public sealed class TenantChanges : INotificationSubscriber
{
    public const string ChannelName = "tenant_changes";

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Listener, byte>> byTenant = new();

    public string Channel => ChannelName;

    /// <summary>
    /// Calls <paramref name="refresh"/> (at most once per <paramref name="minimumInterval"/>) when a row of the
    /// tenant changed, only those of <paramref name="subjectId"/> when one is given, or when notifications may
    /// have been missed. Dispose the result with the page.
    /// </summary>
    public IDisposable Listen(Guid tenantId, Guid? subjectId, TimeSpan minimumInterval, Func<Task> refresh)
    {
        var listener = new Listener(this, tenantId, subjectId, new CoalescedRefresh(minimumInterval, refresh));
        byTenant.GetOrAdd(tenantId, _ => new ConcurrentDictionary<Listener, byte>()).TryAdd(listener, 0);
        return listener;
    }

    public void OnNotification(string payload)
    {
        var separator = payload.IndexOf(':', StringComparison.Ordinal);
        if (separator < 0 || !Guid.TryParse(payload.AsSpan(0, separator), out var tenantId)) return;
        if (!byTenant.TryGetValue(tenantId, out var listeners)) return;
        Guid? subjectId = Guid.TryParse(payload.AsSpan(separator + 1), out var subject) ? subject : null;
        foreach (var listener in listeners.Keys)
            if (listener.SubjectId is null || subjectId is null || listener.SubjectId == subjectId) listener.Refresh.Request();
    }

    public void CatchUp()
    {
        foreach (var listeners in byTenant.Values)
            foreach (var listener in listeners.Keys) listener.Refresh.Request();
    }

    /// <summary>Listeners of the tenant now (tests use it to see that a page listens to its own tenant only).</summary>
    internal int ListenerCount(Guid tenantId) => byTenant.TryGetValue(tenantId, out var listeners) ? listeners.Count : 0;

    private void Remove(Listener listener)
    {
        if (byTenant.TryGetValue(listener.TenantId, out var listeners)) listeners.TryRemove(listener, out _);
    }

    private sealed class Listener(TenantChanges owner, Guid tenantId, Guid? subjectId, CoalescedRefresh refresh) : IDisposable
    {
        public Guid TenantId => tenantId;
        public Guid? SubjectId => subjectId;
        public CoalescedRefresh Refresh => refresh;

        public void Dispose()
        {
            owner.Remove(this);
            refresh.Dispose();
        }
    }
}
