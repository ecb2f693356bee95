namespace Cogrion.Portal.Infrastructure.Database;

public enum MigrationState { Pending, Applied, Failed }

/// <summary>
/// Whether the schema is ready. Readiness reports it, and background services that need the
/// schema await <see cref="WaitUntilAppliedAsync"/> before their first query.
/// </summary>
public sealed class MigrationStatus
{
    private readonly TaskCompletionSource applied = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MigrationState State { get; private set; } = MigrationState.Pending;
    public int Version { get; private set; }
    public string? Problem { get; private set; }

    public void MarkApplied(int version)
    {
        Version = version;
        State = MigrationState.Applied;
        Problem = null;
        applied.TrySetResult();
    }

    public void MarkWaiting(string problem) => Problem = problem;

    public void MarkFailed(string problem)
    {
        State = MigrationState.Failed;
        Problem = problem;
        applied.TrySetException(new MigrationException(problem));
    }

    public Task WaitUntilAppliedAsync(CancellationToken cancellationToken) => applied.Task.WaitAsync(cancellationToken);
}
