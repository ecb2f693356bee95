using System.Globalization;

namespace Cogrion.Jobs;

/// <summary>What a NOTIFY on <see cref="JobNotification.Channel"/> says.</summary>
public enum JobNotificationKind
{
    /// <summary>A job became claimable (enqueued, retried, handed back): wake the workers.</summary>
    Queued,
    /// <summary>A job changed state (running, succeeded, failed, cancelled).</summary>
    StateChanged,
    /// <summary>An operator asked to cancel a running job: its worker, wherever it runs, must stop it.</summary>
    CancelRequested,
    /// <summary>A job appended log lines.</summary>
    Log,
    /// <summary>A job was deleted.</summary>
    Deleted,
    /// <summary>Work may have become claimable without a job changing to queued (a concurrency key was freed).</summary>
    Wake,
    /// <summary>Not from the database: the listener reconnected and may have missed notifications; re-read everything.</summary>
    Resynchronize,
}

/// <summary>
/// One notification of the job engine. The payload is deliberately tiny ("queued:42",
/// "state:42:failed", "cancel:42", "log:42", "deleted:42", "wake"): NOTIFY payloads are
/// limited to 8000 bytes and go to every listening replica, so they carry ids, never data.
/// The database trigger <c>jobs_notify_change</c> (Schema/0001_jobs.sql) sends all but "log".
/// </summary>
public sealed record JobNotification(JobNotificationKind Kind, long JobId = 0, string? State = null)
{
    public const string Channel = "portal_jobs";

    public static JobNotification? Parse(string payload)
    {
        var parts = payload.Split(':');
        long Id() => parts.Length > 1 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0;
        return parts[0] switch
        {
            "queued" => new JobNotification(JobNotificationKind.Queued, Id(), JobStates.Queued),
            "state" when parts.Length == 3 => new JobNotification(JobNotificationKind.StateChanged, Id(), parts[2]),
            "cancel" => new JobNotification(JobNotificationKind.CancelRequested, Id()),
            "log" => new JobNotification(JobNotificationKind.Log, Id()),
            "deleted" => new JobNotification(JobNotificationKind.Deleted, Id()),
            "wake" => new JobNotification(JobNotificationKind.Wake),
            _ => null,
        };
    }
}

/// <summary>
/// The in-process fan-out of job notifications: the listener publishes, the worker pool and the
/// console's pages subscribe. Subscribers run on the listener's thread and must return at once
/// (set a flag, release a signal, post to a component); never query from a handler.
/// </summary>
public sealed class JobEvents
{
    public event Action<JobNotification>? Received;

    /// <summary>A payload heard on <see cref="JobNotification.Channel"/>, from the engine's listener or the host's.</summary>
    public void Receive(string payload)
    {
        if (JobNotification.Parse(payload) is { } notification) Publish(notification);
    }

    /// <summary>Notifications may have been missed (the listener reconnected): the workers claim, the pages reload.</summary>
    public void Resynchronize() => Publish(new JobNotification(JobNotificationKind.Resynchronize));

    public void Publish(JobNotification notification)
    {
        var handlers = Received;
        if (handlers is null) return;
        foreach (var handler in handlers.GetInvocationList().Cast<Action<JobNotification>>())
        {
            try
            {
                handler(notification);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // One broken subscriber (a disposed page) must not starve the others, the workers least of all.
            }
        }
    }
}
