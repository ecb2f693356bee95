namespace Cogrion.Jobs;

/// <summary>
/// What a host decides when it adds the engine (<see cref="JobsServiceCollectionExtensions.AddJobEngine"/>).
/// The defaults make the engine self-sufficient: it applies its own schema and holds a LISTEN
/// connection of its own. A host that has migrations and a listener of its own (the Portal) takes
/// both over, so the process keeps one migration step and one LISTEN connection.
/// </summary>
public sealed class JobEngineSetup
{
    /// <summary>
    /// Null: the engine applies <see cref="Schema.JobSchema"/> at start-up. Set: the host applies it
    /// (before its own migrations) and this completes once it has; the workers and the scheduler
    /// make no query before.
    /// </summary>
    public Func<IServiceProvider, CancellationToken, Task>? SchemaReady { get; set; }

    /// <summary>
    /// False: the engine listens on <see cref="JobNotification.Channel"/> itself. True: the host
    /// listens and passes every payload to <see cref="JobEvents.Receive"/>, and calls
    /// <see cref="JobEvents.Resynchronize"/> whenever notifications may have been missed.
    /// </summary>
    public bool HostDeliversNotifications { get; set; }
}

/// <summary>Completes when the engine's tables are there; the engine's background services wait for it before their first query.</summary>
public sealed class JobStoreReadiness(Func<CancellationToken, Task> ready)
{
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) => ready(cancellationToken);
}
