using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Jobs;

/// <summary>
/// This replica's workers: claims jobs when there is room and work (woken by NOTIFY, by a slot
/// freeing up, by the next retry falling due, or by the slow fallback poll), runs each with
/// <see cref="JobRunner"/>, keeps their leases alive, reaps expired leases, and on shutdown lets
/// running jobs finish within the grace period before handing the rest back.
/// </summary>
internal sealed class JobWorkerPool(
    JobClaimer claimer,
    JobRunner runner,
    JobLeases leases,
    JobOutcomes outcomes,
    JobEvents events,
    JobKindRegistry registry,
    JobStoreReadiness readiness,
    WorkerIdentity identity,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<JobWorkerPool> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<long, (RunningJob Running, Task Task)> inHand = new();
    private readonly WakeSignal wake = new();
    private readonly CancellationTokenSource maintenanceStop = new();
    private Task maintenance = Task.CompletedTask;
    private bool started;
    private volatile bool waiting;
    private readonly Lock stopGate = new();
    private Task? stopping;

    private JobsOptions Options => options.Value;

    /// <summary>Ids of the jobs this replica runs now.</summary>
    public IReadOnlyCollection<long> JobsInHand => inHand.Keys.ToList();

    /// <summary>
    /// Waiting for a wake-up with nothing in hand and none pending: from here only a notification (or the
    /// slow poll) makes the pool claim again. Tests use it to prove that NOTIFY, not a timer, woke it.
    /// </summary>
    internal bool IsIdle => waiting && inHand.IsEmpty && !wake.IsSet;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Options.RunWorkers)
        {
            logger.LogInformation("Jobs:RunWorkers is false: this replica enqueues jobs but never runs them");
            return;
        }
        await readiness.WaitUntilReadyAsync(stoppingToken);
        events.Received += OnNotification;
        started = true;
        maintenance = MaintainAsync(maintenanceStop.Token);
        logger.LogInformation("Job worker {WorkerId} started with {Slots} slot(s) for kinds {Kinds}", identity.Id, Options.WorkersPerReplica,
            string.Join(", ", registry.Kinds.Order()));
        await ClaimLoopAsync(stoppingToken);
    }

    private async Task ClaimLoopAsync(CancellationToken stoppingToken)
    {
        var kinds = registry.Kinds.ToArray();
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = Options.PollInterval;
            var free = Options.WorkersPerReplica - inHand.Count;
            if (free > 0)
            {
                try
                {
                    var result = await claimer.ClaimAsync(identity.Id, free, kinds, Options.LeaseDuration, stoppingToken);
                    foreach (var job in result.Jobs) Start(job);
                    // A full batch means more may be waiting: go round again as soon as a slot frees up.
                    if (result.Jobs.Count == free) continue;
                    if (result.NextDueIn is { } due && due < wait) wait = due + TimeSpan.FromMilliseconds(5);
                }
                catch (Exception) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    // A random pause, so replicas that lost the database together do not return in lockstep.
                    wait = TimeSpan.FromMilliseconds(Random.Shared.Next(1000, 5000));
                    logger.LogWarning("Could not claim jobs: {Error}; trying again in {Wait}", ex.Message, wait);
                }
            }
            try
            {
                waiting = true;
                await wake.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                waiting = false;
            }
        }
    }

    private void Start(ClaimedJob job)
    {
        var running = new RunningJob(job);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Registered before it starts, so a cancellation or heartbeat never misses it.
        var task = gate.Task.ContinueWith(_ => runner.RunAsync(running, identity.Id), TaskScheduler.Default).Unwrap()
            .ContinueWith(_ =>
            {
                inHand.TryRemove(job.Id, out var _);
                running.Dispose();
                wake.Set();
            }, TaskScheduler.Default);
        inHand[job.Id] = (running, task);
        gate.SetResult();
    }

    private void OnNotification(JobNotification notification)
    {
        switch (notification.Kind)
        {
            case JobNotificationKind.Queued or JobNotificationKind.Wake or JobNotificationKind.Resynchronize:
                wake.Set();
                break;
            case JobNotificationKind.CancelRequested when inHand.TryGetValue(notification.JobId, out var held):
                logger.LogInformation("Job {JobId} was cancelled by an operator; stopping it", notification.JobId);
                held.Running.Stop(StopReason.CancelledByOperator, Options.CancelGracePeriod);
                break;
        }
    }

    /// <summary>Heartbeats (lease renewal) on a steady beat, and the reaper every ReaperInterval.</summary>
    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        var lastReap = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(Options.HeartbeatInterval, time);
        do
        {
            try
            {
                var cancelRequested = await leases.HeartbeatAsync(identity, Options.WorkersPerReplica, inHand.Keys.ToList(), Options.LeaseDuration,
                    cancellationToken);
                foreach (var id in cancelRequested)
                    if (inHand.TryGetValue(id, out var held)) held.Running.Stop(StopReason.CancelledByOperator, Options.CancelGracePeriod);

                if (time.GetUtcNow() - lastReap >= Options.ReaperInterval)
                {
                    lastReap = time.GetUtcNow();
                    var reaped = await leases.ReapExpiredAsync(cancellationToken);
                    foreach (var job in reaped)
                        logger.LogWarning("Job {JobId} ({JobKind}) lost its worker {Worker} (lease expired); it is now {State}", job.Id, job.Kind,
                            job.PreviousWorker, job.State);
                    if (reaped.Count > 0) wake.Set();
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Job heartbeat failed: {Error}", ex.Message);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: a query cut short may surface as an NpgsqlException as well as a cancellation.
                return;
            }
        }
        while (await WaitForTickAsync(timer, cancellationToken));
    }

    private static async Task<bool> WaitForTickAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Graceful shutdown: claiming has stopped (the base class cancels the loop). Running jobs get the
    /// grace period to finish, with their leases still renewed; the rest are asked to stop and handed
    /// back to the queue for another replica, without counting the attempt against them.
    /// The host may ask twice at once (the app's own Run and a test host's dispose both stop it, and
    /// the first to finish disposes the pool), so every caller awaits the one shutdown.
    /// </summary>
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        lock (stopGate)
            return stopping ??= ShutDownAsync(cancellationToken);
    }

    private async Task ShutDownAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!started) return;
        events.Received -= OnNotification;
        var running = inHand.Values.ToList();
        if (running.Count > 0)
        {
            logger.LogInformation("Shutting down: waiting up to {Grace} for {Count} running job(s)", Options.ShutdownGracePeriod, running.Count);
            await WaitQuietlyAsync(Task.WhenAll(running.Select(r => r.Task)), Options.ShutdownGracePeriod);
        }
        var unfinished = inHand.Values.ToList();
        if (unfinished.Count > 0)
        {
            foreach (var (job, _) in unfinished) job.Stop(StopReason.Shutdown, TimeSpan.FromSeconds(1));
            await WaitQuietlyAsync(Task.WhenAll(unfinished.Select(r => r.Task)), TimeSpan.FromSeconds(2));
            await BestEffortAsync("hand unfinished jobs back", async ct =>
            {
                var released = await outcomes.ReleaseAsync(unfinished.Select(u => u.Running.Job.Id).ToList(), identity.Id, ct);
                logger.LogInformation("Handed {Count} unfinished job(s) back to the queue", released);
            });
        }
        await maintenanceStop.CancelAsync();
        await maintenance;
        await BestEffortAsync("mark the worker stopped", ct => leases.MarkStoppedAsync(identity, ct));
    }

    /// <summary>
    /// Shutdown writes must not hang or crash the shutdown when the database is away: what they
    /// would have done, the reaper does once the leases run out.
    /// </summary>
    private async Task BestEffortAsync(string what, Func<CancellationToken, Task> write)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await write(timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            logger.LogWarning("Could not {What} on shutdown ({Error}); the reaper will take over when the leases expire", what, ex.Message);
        }
    }

    private static async Task WaitQuietlyAsync(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            // What is still running is dealt with next.
        }
    }

    public override void Dispose()
    {
        // A shutdown still in flight (another caller's) owns the token source until it ends.
        if (stopping is { IsCompleted: false }) return;
        maintenanceStop.Dispose();
        base.Dispose();
    }
}
