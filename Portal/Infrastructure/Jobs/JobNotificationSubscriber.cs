using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Infrastructure.Jobs;

/// <summary>
/// The job engine's subscription to <see cref="JobNotification.Channel"/> on the process's one LISTEN
/// connection (<see cref="PostgresNotifications"/>, ADR 0051): what it hears goes to <see cref="JobEvents"/>,
/// for new work for the worker pool, cancellations for the jobs in hand, and changes for the console's
/// pages. When notifications may have been missed the engine resynchronises: the pool claims, the pages reload.
/// </summary>
public sealed class JobNotificationSubscriber(JobEvents events) : INotificationSubscriber
{
    public string Channel => JobNotification.Channel;

    public void OnNotification(string payload) => events.Receive(payload);

    public void CatchUp() => events.Resynchronize();
}
