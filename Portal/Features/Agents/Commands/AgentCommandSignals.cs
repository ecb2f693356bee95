using System.Collections.Concurrent;

namespace Cogrion.Portal.Features.Agents.Commands;

/// <summary>
/// The in-memory side of command wake-ups: one waiting long poll per agent id, woken when the
/// listener hears that agent's id on the notification channel. Waiting costs a dictionary entry
/// and a task, never a database connection: that is what lets one Portal hold 10,000 long polls.
/// </summary>
public sealed class AgentCommandSignals
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> waiting = new();

    /// <summary>
    /// Returns a task that completes at the agent's next wake-up. Take it BEFORE reading the queue,
    /// so a command enqueued between the read and the wait is not missed.
    /// </summary>
    public Task WaitForWakeUp(Guid agentId) =>
        waiting.GetOrAdd(agentId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Forgets a wait that ended without a wake-up (timeout, client gone), unless a newer one replaced it.</summary>
    public void Forget(Guid agentId, Task waitTask)
    {
        if (waiting.TryGetValue(agentId, out var source) && source.Task == waitTask)
            waiting.TryRemove(new KeyValuePair<Guid, TaskCompletionSource>(agentId, source));
    }

    public void WakeUp(Guid agentId)
    {
        if (waiting.TryRemove(agentId, out var source)) source.TrySetResult();
    }

    /// <summary>After the listening connection was lost, notifications may have been missed: every waiter re-reads its queue.</summary>
    public void WakeUpAll()
    {
        foreach (var agentId in waiting.Keys) WakeUp(agentId);
    }

    public int WaitingCount => waiting.Count;
}
