using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.OpenTofu;
using MudBlazor;

namespace Cogrion.Portal.Tests.Components.Workspaces;

/// <summary>What the workspace page says after a crash: the stale state lock, and a run whose worker stopped.</summary>
public sealed class RunRecoveryComponentsTests : PortalTestContext
{
    private static readonly TofuStateLock HeldLock = new(
        "5f0c2a3e-0000-4000-8000-00000000beef", "/state/ws/terraform.tfstate", "OperationTypeApply", "portal@worker-1", "1.10.7",
        new DateTimeOffset(2026, 12, 5, 10, 11, 12, TimeSpan.Zero), "");

    private IRenderedComponent<StateLockRelease> RenderLock(bool canOperate, Func<string, string, Task<string?>> release) =>
        Render<StateLockRelease>(p => p
            .Add(c => c.Lock, HeldLock).Add(c => c.WorkspaceName, "lake").Add(c => c.CanOperate, canOperate).Add(c => c.Release, release));

    [Fact]
    public void A_stale_state_lock_names_its_holder_and_since_when_and_only_operators_may_release_it()
    {
        Func<string, string, Task<string?>> release = (_, _) => Task.FromResult<string?>(null);

        var forOperator = RenderLock(canOperate: true, release);
        var forViewer = RenderLock(canOperate: false, release);

        Assert.Contains("held by an apply by portal@worker-1 since 2026-12-05 10:11:12 UTC (lock ID 5f0c2a3e-0000-4000-8000-00000000beef)",
            forOperator.Markup);
        Assert.Equal("The workspace's state is locked", forOperator.Find("#state-lock-title").TextContent.Trim());
        Assert.Contains(forOperator.FindAll("button"), b => b.TextContent.Contains("Release the lock", StringComparison.Ordinal));
        Assert.Contains("held by an apply by portal@worker-1", forViewer.Markup);
        Assert.DoesNotContain(forViewer.FindAll("button"), b => b.TextContent.Contains("Release the lock", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Releasing_asks_for_the_workspace_name_and_passes_the_lock_and_what_was_typed()
    {
        (string LockId, string Typed)? released = null;
        var provider = Render<MudDialogProvider>();
        var cut = RenderLock(canOperate: true, (id, typed) =>
        {
            released = (id, typed);
            return Task.FromResult<string?>(null);
        });

        await cut.InvokeAsync(() => cut.FindAll("button").Single(b => b.TextContent.Contains("Release the lock", StringComparison.Ordinal)).Click());
        provider.Find("input").Input("lake");
        await provider.InvokeAsync(() => provider.FindAll("button").Single(b => b.TextContent.Trim() == "Release lock").Click());

        cut.WaitForAssertion(() => Assert.Equal((HeldLock.Id, "lake"), released));
    }

    [Fact]
    public void A_run_whose_worker_stopped_says_in_which_stage_and_what_to_do_next()
    {
        static WorkspaceRun Run(RunStatus status, string? jobState, DateTimeOffset? lostAt) => new(Guid.NewGuid(), Guid.NewGuid(), RunKind.Apply,
            status, "Apply", null, "The worker running this run stopped.", "The apply was interrupted: some resources may exist or have changed.",
            [], 1, null, "alice", null, DateTimeOffset.UnixEpoch, null, null, lostAt, jobState);

        var cleaning = Render<RunRecoveryNotice>(p => p.Add(c => c.Run, Run(RunStatus.Applying, "failed", null)));
        var ended = Render<RunRecoveryNotice>(p => p.Add(c => c.Run,
            Run(RunStatus.Failed, "failed", new DateTimeOffset(2026, 12, 5, 10, 12, 0, TimeSpan.Zero))));
        var healthy = Render<RunRecoveryNotice>(p => p.Add(c => c.Run, Run(RunStatus.Applying, "running", null)));

        Assert.Contains("stopped during Apply. The Portal is ending what it left running", cleaning.Markup);
        Assert.Contains("at 2026-12-05 10:12:00 UTC the Portal", ended.Markup);
        Assert.Contains("The apply was interrupted", ended.Markup);
        Assert.Contains("Next: Retry plans again from where the cloud is now.", ended.Markup);
        Assert.Empty(healthy.Markup.Trim());
    }
}
