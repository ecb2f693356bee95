using Cogrion.Jobs;
using Cogrion.Portal.Features.Offboarding;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Workspaces;
using Npgsql;

namespace Cogrion.Portal.Tests.Offboarding;

/// <summary>
/// <see cref="StepWakeups"/> on real PostgreSQL: a waiting step's next run is brought forward by a change of what it waits on, whether
/// the change came while the step was still looking or after its next run was committed, and by nothing else.
/// </summary>
public sealed class StepWakeupsTests : IAsyncLifetime
{
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() => world = await WorkspaceWorld.StartAsync(runWorkers: false);

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task A_change_while_the_step_looks_wakes_its_next_run_as_soon_as_it_is_committed()
    {
        var (offboarding, subject) = (Guid.NewGuid(), new WakeSubject(Guid.NewGuid(), Guid.NewGuid()));
        using var wakeup = world.Get<StepWakeups>().Listen(offboarding, [subject]);
        world.Get<TenantChanges>().OnNotification($"{subject.TenantId}:{subject.SubjectId}");
        var next = await NextRunAsync(offboarding);

        wakeup.Arm(TimeSpan.FromMinutes(5));

        await Eventually.ValueAsync(() => DueAsync(next), due => due, "the next run to be brought forward");
    }

    [Fact]
    public async Task Only_a_change_of_what_the_step_waits_on_wakes_it_once_armed()
    {
        var (offboarding, subject) = (Guid.NewGuid(), new WakeSubject(Guid.NewGuid(), Guid.NewGuid()));
        var changes = world.Get<TenantChanges>();
        using var wakeup = world.Get<StepWakeups>().Listen(offboarding, [subject]);
        var next = await NextRunAsync(offboarding);
        wakeup.Arm(TimeSpan.FromMinutes(5));

        // Another subject of the same tenant: a marker listener hears it, the step's next run stays where it was.
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (changes.Listen(subject.TenantId, null, TimeSpan.Zero, () => { marker.TrySetResult(); return Task.CompletedTask; }))
        {
            changes.OnNotification($"{subject.TenantId}:{Guid.NewGuid()}");
            await marker.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.False(await DueAsync(next));

        changes.OnNotification($"{subject.TenantId}:{subject.SubjectId}");
        await Eventually.ValueAsync(() => DueAsync(next), due => due, "the next run to be brought forward");
    }

    /// <summary>The step's next run, as the step handler enqueues it when the step waits.</summary>
    private async Task<long> NextRunAsync(Guid offboarding)
    {
        await using var connection = await world.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var id = await OffboardingJobs.EnqueueAsync(world.Get<JobQueue>(), transaction, offboarding, Guid.NewGuid(),
            OffboardingStep.DestroyWorkspaces, DateTimeOffset.UtcNow.AddMinutes(5), CancellationToken.None);
        await transaction.CommitAsync();
        return id;
    }

    private async Task<bool> DueAsync(long job) =>
        await world.ScalarAsync<bool>("select run_after <= now() from jobs where id = @job", new { job });
}
