using System.Diagnostics;
using Cogrion.Portal.Features.Offboarding;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Workspaces;
using Dapper;

namespace Cogrion.Portal.Tests.Offboarding;

/// <summary>
/// The crash of issue 17, with real processes as in <see cref="RunCrashTests"/>: the Portal running an offboarding is SIGKILLed while the
/// destroy run of a workspace applies, another Portal starts on the same database and machine, and the offboarding completes: the killed run
/// is recovered as failed, the step (idempotent) starts the destroy again, and every later step runs once.
/// </summary>
public sealed class OffboardingCrashTests : IAsyncLifetime
{
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() => world = await WorkspaceWorld.StartAsync(runWorkers: false, services: TestAuthentication.Register);

    public async Task DisposeAsync() => await world.DisposeAsync();

    private Task<PortalProcess> StartWorkerAsync(double speed)
    {
        var settings = world.CrashableWorkerSettings(speed);
        settings["Offboarding:WaitInterval"] = "00:00:01";
        return world.StartWorkerAsync(settings);
    }

    [Fact]
    public async Task A_portal_killed_mid_offboarding_is_restarted_and_the_offboarding_completes()
    {
        var seeded = await OffboardingWorld.SeedAsync(world.ConnectionString, world.Portal.Services, slug: "crash");
        var account = await world.NewAccountAsync(seeded.Root);
        var created = await world.Commands.CreateAsync(seeded.Root, WorkspaceWorld.Valid(account, "lake", approval: ApprovalMode.Automatic),
            WorkspaceWorld.Operator, default);
        await using (await StartWorkerAsync(5000))
        {
            await Eventually.ValueAsync(() => world.Store.FindByNameAsync(seeded.Root, "lake", default), w => w?.Status == WorkspaceStatus.Ready,
                "the workspace to be ready", OffboardingWorld.Deadline);
        }

        var context = await OffboardingWorld.ContextAsync(world.Portal.Services, seeded.Root, seeded.Admin, TenantRole.Admin);
        var started = await world.Get<OffboardingCommands>().StartAsync(context, new OffboardingRequest("crash",
            new Dictionary<Guid, WorkspaceFate> { [created.Value!.Id] = WorkspaceFate.Destroy }, PurgeTiming.AfterRetention),
            Actor.User(seeded.Admin.Id, "crash-admin"), CancellationToken.None);
        Assert.True(started.Succeeded);

        await using (var doomed = await StartWorkerAsync(20))
        {
            await Eventually.ValueAsync(() => world.CountAsync("""
                select count(*) from run_processes p join workspace_runs r on r.id = p.run_id
                where r.workspace_id = @id and r.kind = 'destroy' and p.stage = 'Apply' and p.ended_at is null
                """, new { id = created.Value.Id }), n => n == 1, "the destroy run to apply", OffboardingWorld.Deadline);
            Process.GetProcessById(doomed.ProcessId).Kill();
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }
        var interrupted = await world.Get<OffboardingStore>().FindAsync(started.Value, CancellationToken.None);
        Assert.Equal(OffboardingStep.DestroyWorkspaces, interrupted!.Step);

        await using (await StartWorkerAsync(5000))
        {
            var done = await OffboardingWorld.WaitForAsync(world.Portal.Services, started.Value, o => o.Status == OffboardingStatus.AwaitingPurge,
                "the offboarding to complete after the restart");
            Assert.NotNull(done.Certificate);
        }
        Assert.Equal(WorkspaceStatus.Destroyed, (await world.Store.ListAsync(seeded.Root, includeDestroyed: true, default)).Single()
            .Workspace.Status);
        // Each later step ran to its end once, whatever ran twice before the kill.
        foreach (var step in new[] { "uninstall_agents", "revoke", "cloud_access", "certificate" })
        {
            Assert.True(1 == await world.CountAsync(
                "select count(*) from audit_events where action = 'offboarding.step_completed' and details->>'step' = @step", new { step }),
                $"step {step}: " + string.Join("; ", await world.QueryAsync<string>(
                    "select action || ' ' || coalesce(details::text, '') from audit_events where action like 'offboarding.%' order by id")));
        }
        Assert.Equal(1, await world.CountAsync("select count(*) from audit_events where action = 'offboarding.certificate_issued'"));
    }
}
