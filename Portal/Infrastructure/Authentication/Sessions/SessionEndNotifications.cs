using System.Collections.Concurrent;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Infrastructure.Authentication.Sessions;

/// <summary>
/// Tells every replica's open Blazor circuits that their session ended. A deleted session row
/// already stops the next HTTP request everywhere; a circuit, though, authenticated once when it
/// connected and would go on showing pages. Each statement that ends sessions also NOTIFYs their
/// hashes; every replica hears it on its one LISTEN connection and the circuits of those sessions
/// drop their user at once (the page then goes to sign-in).
/// </summary>
public sealed class SessionEndNotifications : INotificationSubscriber
{
    public const string ChannelName = "authentication_sessions_ended";

    /// <summary>
    /// The tail of a statement that ends sessions: after a CTE named <c>ended</c> that returns the
    /// deleted rows' <c>key_hash</c>, notifies each one and returns how many there were. The
    /// notification is delivered only if the transaction commits.
    /// </summary>
    public const string NotifySql = $"""
        select count(*) from (select pg_notify('{ChannelName}', encode(key_hash, 'hex')) from ended) notified
        """;

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Listener, byte>> listeners = new(StringComparer.Ordinal);

    public string Channel => ChannelName;

    /// <summary>
    /// Calls <paramref name="ended"/> when the session with this hash ends, and <paramref name="recheck"/>
    /// when notifications may have been missed (the circuit should look the session up again).
    /// Dispose the result when the circuit goes away.
    /// </summary>
    public IDisposable Listen(string sessionHash, Action ended, Action recheck)
    {
        var listener = new Listener(this, sessionHash, ended, recheck);
        listeners.GetOrAdd(sessionHash, _ => new()).TryAdd(listener, 0);
        return listener;
    }

    public void OnNotification(string payload)
    {
        if (listeners.TryGetValue(payload, out var forSession))
            foreach (var listener in forSession.Keys) listener.Ended();
    }

    public void CatchUp()
    {
        foreach (var forSession in listeners.Values)
            foreach (var listener in forSession.Keys) listener.Recheck();
    }

    // A class, not a record: each circuit's registration is its own entry, whatever it holds.
    private sealed class Listener(SessionEndNotifications owner, string hash, Action ended, Action recheck) : IDisposable
    {
        private SessionEndNotifications Owner => owner;
        private string Hash => hash;
        public Action Ended => ended;
        public Action Recheck => recheck;

        public void Dispose()
        {
            if (!Owner.listeners.TryGetValue(Hash, out var forSession)) return;
            forSession.TryRemove(this, out _);
            if (forSession.IsEmpty) Owner.listeners.TryRemove(new KeyValuePair<string, ConcurrentDictionary<Listener, byte>>(Hash, forSession));
        }
    }
}
