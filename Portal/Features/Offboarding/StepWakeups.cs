using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Database;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>A row a waiting step looks at: a workspace (its runs, apps) or an agent (its answers), as tenant_changes names them.</summary>
public readonly record struct WakeSubject(Guid TenantId, Guid SubjectId);

/// <summary>
/// Wakes an offboarding's waiting step when what it waits for changes (ADR 0123): a step that waits is enqueued again for
/// <see cref="OffboardingOptions.WaitInterval"/> later, and a change of one of its <see cref="IOffboardingStep.WakesOn"/> subjects,
/// heard on any replica through <see cref="TenantChanges"/>, brings that job forward to now. The interval stays as the fallback for a
/// change that was missed.
/// </summary>
public sealed class StepWakeups(TenantChanges changes, JobQueue queue, NpgsqlDataSource dataSource, ILogger<StepWakeups> logger)
{
    /// <summary>
    /// Starts listening before the step looks (a change while it looks is not lost). Dispose the result if the step finished; hand it to
    /// <see cref="StepWakeup.Arm"/> once its next run is committed if it waits.
    /// </summary>
    public StepWakeup Listen(Guid offboardingId, IEnumerable<WakeSubject> subjects) =>
        new(this, OffboardingJobs.ConcurrencyKey(offboardingId), subjects);

    internal IDisposable Subscribe(WakeSubject subject, Func<Task> changed) =>
        changes.Listen(subject.TenantId, subject.SubjectId, TimeSpan.Zero, changed);

    internal async Task WakeAsync(string concurrencyKey)
    {
        try
        {
            var woken = await queue.WakeAsync(dataSource, concurrencyKey, CancellationToken.None);
            logger.LogDebug("Woke {Count} waiting offboarding step(s) of {ConcurrencyKey}", woken, concurrencyKey);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The step looks again at its interval anyway.
            logger.LogWarning(ex, "Could not wake the waiting offboarding step of {ConcurrencyKey}", concurrencyKey);
        }
    }
}

/// <summary>One waiting step's ears: it notes a change while the step runs, and wakes the step's next run once armed. Wakes at most once.</summary>
public sealed class StepWakeup : IDisposable
{
    private readonly Lock gate = new();
    private readonly StepWakeups owner;
    private readonly string concurrencyKey;
    private readonly List<IDisposable> listeners;
    private Timer? expiry;
    private bool changed;
    private bool armed;
    private bool done;

    internal StepWakeup(StepWakeups owner, string concurrencyKey, IEnumerable<WakeSubject> subjects)
    {
        this.owner = owner;
        this.concurrencyKey = concurrencyKey;
        listeners = subjects.Distinct().Select(subject => owner.Subscribe(subject, OnChangedAsync)).ToList();
    }

    /// <summary>
    /// The step's next run is committed: wake it on the next change (or now, if one came while the step ran). After
    /// <paramref name="until"/> the next run is due anyway and the listeners go.
    /// </summary>
    public void Arm(TimeSpan until)
    {
        lock (gate)
        {
            if (done) return;
            armed = true;
            if (!changed)
            {
                expiry = new Timer(_ => End(), null, until, Timeout.InfiniteTimeSpan);
                return;
            }
        }
        _ = WakeOnceAsync();
    }

    private Task OnChangedAsync()
    {
        lock (gate)
        {
            if (done) return Task.CompletedTask;
            if (!armed)
            {
                changed = true;
                return Task.CompletedTask;
            }
        }
        return WakeOnceAsync();
    }

    private async Task WakeOnceAsync()
    {
        if (End()) await owner.WakeAsync(concurrencyKey);
    }

    public void Dispose() => End();

    /// <summary>Stops listening; true for the one call that did.</summary>
    private bool End()
    {
        lock (gate)
        {
            if (done) return false;
            done = true;
        }
        foreach (var listener in listeners) listener.Dispose();
        expiry?.Dispose();
        return true;
    }
}
