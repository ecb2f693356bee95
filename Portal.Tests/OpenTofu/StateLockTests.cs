using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>
/// The sandbox locks a workspace's state as OpenTofu's S3 backend does with <c>use_lockfile</c> (a
/// <c>.tflock</c> object beside the state), and the runner shows OpenTofu's lock error plainly: who
/// holds the lock, since when, and the ID a force-unlock needs. Real runner, real processes.
/// </summary>
public sealed class StateLockTests
{
    /// <summary>Collects the log and completes when a line matching the condition arrives.</summary>
    private sealed class SignalWhen(Func<RunLogLine, bool> condition) : IRunLog
    {
        private readonly CollectingRunLog inner = new();
        public TaskCompletionSource Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string Text => inner.Text;

        public async ValueTask WriteAsync(RunLogLine line, CancellationToken cancellationToken)
        {
            await inner.WriteAsync(line, cancellationToken);
            if (condition(line)) Seen.TrySetResult();
        }
    }

    private static bool ApplyStarted(RunLogLine line) => line.Stage == TofuStage.Apply
        && line.Text.Contains(": create started", StringComparison.Ordinal);

    [Fact]
    public async Task A_second_apply_of_a_locked_state_fails_with_opentofus_lock_error_naming_who_holds_it_and_since_when()
    {
        using var workspace = new SandboxWorkspace("slow-locked");
        var runner = workspace.Runner();
        var first = workspace.Request();
        var second = workspace.Request();
        Assert.True((await runner.PlanAsync(first, new CollectingRunLog(), CancellationToken.None)).Succeeded);
        Assert.True((await runner.PlanAsync(second, new CollectingRunLog(), CancellationToken.None)).Succeeded);
        using var cancel = new CancellationTokenSource();
        var firstLog = new SignalWhen(ApplyStarted);
        var firstApply = runner.ApplyAsync(first, firstLog, cancel.Token);
        await firstLog.Seen.Task.WaitAsync(TimeSpan.FromMinutes(1));
        var lockFile = JsonNode.Parse(File.ReadAllText(workspace.StatePath + ".tflock"))!.AsObject();

        var log = new CollectingRunLog();
        var refused = await runner.ApplyAsync(second, log, CancellationToken.None);

        Assert.Equal(TofuRunStatus.Failed, refused.Status);
        Assert.Equal(TofuStage.Apply, refused.Stage);
        var held = refused.StateLock!;
        Assert.Equal(lockFile["ID"]!.GetValue<string>(), held.Id);
        Assert.Equal("OperationTypeApply", held.Operation);
        Assert.Equal(workspace.StatePath, held.Path);
        Assert.Equal("1.10.7", held.Version);
        Assert.Contains("@", held.Who);
        Assert.InRange(held.Created!.Value, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(["ID", "Operation", "Info", "Who", "Version", "Created", "Path"], lockFile.Select(p => p.Key)); // Go's LockInfo, in its order
        Assert.Contains($"the workspace's state is locked by an apply by {held.Who} since ", refused.Error);
        Assert.Contains($"(lock ID {held.Id})", refused.Error);
        Assert.Equal(TofuRunner.LockedOutState, refused.WorkspaceState);
        Assert.Contains("Error: Error acquiring the state lock", log.Text);
        Assert.Contains("PreconditionFailed: At least one of the pre-conditions you specified did not hold", log.Text);
        Assert.Contains("OpenTofu acquires a state lock to protect the state from being written", log.Text);

        await cancel.CancelAsync();
        var interrupted = await firstApply;
        Assert.Equal(TofuRunStatus.Cancelled, interrupted.Status);
        Assert.False(File.Exists(workspace.StatePath + ".tflock")); // an interrupted apply releases its lock
    }

    [Fact]
    public async Task A_lock_left_by_a_killed_apply_stays_until_force_unlock_with_its_id_releases_it()
    {
        using var workspace = new SandboxWorkspace("slow-killed");
        workspace.Options.CancelGracePeriod = TimeSpan.FromSeconds(1);
        var runner = workspace.Runner();
        using var cancel = new CancellationTokenSource();
        var stubborn = workspace.Request(environment: new Dictionary<string, string> { ["TOFU_SANDBOX_IGNORE_INTERRUPT"] = "1" });
        var log = new SignalWhen(ApplyStarted);
        var run = runner.RunAsync(stubborn, log, cancel.Token);
        await log.Seen.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await cancel.CancelAsync();
        Assert.Contains("killed", (await run).WorkspaceState);

        var locked = await runner.PlanAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None);
        Assert.Equal(TofuStage.Plan, locked.Stage);
        var stale = locked.StateLock!;
        Assert.Equal("OperationTypeApply", stale.Operation);

        var wrong = await runner.ForceUnlockAsync(workspace.Request(), Guid.NewGuid().ToString(), new CollectingRunLog(), CancellationToken.None);
        Assert.Equal(TofuRunStatus.Failed, wrong.Status);
        Assert.Equal(TofuStage.Unlock, wrong.Stage);
        Assert.Contains("does not match existing lock", wrong.Error);
        Assert.True(File.Exists(workspace.StatePath + ".tflock"));

        var unlockLog = new CollectingRunLog();
        var released = await runner.ForceUnlockAsync(workspace.Request(), stale.Id, unlockLog, CancellationToken.None);
        Assert.True(released.Succeeded, released.Error);
        Assert.Contains("OpenTofu state has been successfully unlocked!", unlockLog.Text);
        Assert.False(File.Exists(workspace.StatePath + ".tflock"));

        var resumed = await runner.PlanAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None);
        Assert.True(resumed.Succeeded, resumed.Error);
    }
}
