using System.Collections.Concurrent;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>
/// Tells the pages watching a workspace's apps that an agent report changed one of them, on every replica: the
/// statement that stores the report also NOTIFYs the workspace's id (delivered only if it commits), heard on the
/// process's one LISTEN connection. The app page re-reads at once instead of on a timer.
/// </summary>
public sealed class AppStatusNotifications : INotificationSubscriber
{
    public const string ChannelName = "workspace_app_status";

    /// <summary>Appended to a statement in the transaction that changed an app of workspace <c>@workspaceId</c>.</summary>
    public const string NotifySql = $"select pg_notify('{ChannelName}', @workspaceId::text)";

    private readonly ConcurrentDictionary<Listener, byte> listeners = new();

    public string Channel => ChannelName;

    /// <summary>Calls <paramref name="changed"/> when an app of the workspace changed, or notifications may have been missed.</summary>
    public IDisposable Listen(Guid workspaceId, Action changed)
    {
        var listener = new Listener(this, workspaceId, changed);
        listeners.TryAdd(listener, 0);
        return listener;
    }

    public void OnNotification(string payload)
    {
        if (!Guid.TryParse(payload, out var workspaceId)) return;
        foreach (var listener in listeners.Keys.Where(l => l.WorkspaceId == workspaceId)) listener.Changed();
    }

    public void CatchUp()
    {
        foreach (var listener in listeners.Keys) listener.Changed();
    }

    private sealed class Listener(AppStatusNotifications owner, Guid workspaceId, Action changed) : IDisposable
    {
        public Guid WorkspaceId => workspaceId;

        public void Changed() => changed();

        public void Dispose() => owner.listeners.TryRemove(this, out _);
    }
}
