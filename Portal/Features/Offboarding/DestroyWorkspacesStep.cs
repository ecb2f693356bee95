using Cogrion.Jobs;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Audit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>
/// Step 2: for each workspace the admin chose to destroy, its apps are removed through the catalog's removal (the agent deletes their
/// namespaces), then the workspace's ordinary destroy run starts: its plan, and the approval the workspace is configured for. The step waits
/// (runs again later) until every such workspace is destroyed. Idempotent: an app already removing, a destroy already under way, a workspace
/// already destroyed are taken as they are.
/// </summary>
public sealed class DestroyWorkspacesStep(
    NpgsqlDataSource dataSource, WorkspaceApps apps, WorkspaceCommands commands, IOptions<OffboardingOptions> options) : IOffboardingStep
{
    public OffboardingStep Step => OffboardingStep.DestroyWorkspaces;

    /// <summary>
    /// A destroyed workspace's row, runs and apps' reports announce themselves with the workspace as the subject; its agent's answers
    /// (an app's removal command) with the agent.
    /// </summary>
    public IEnumerable<WakeSubject> WakesOn(OffboardingPlan plan)
    {
        var destroyed = plan.Workspaces.Where(w => w.Fate == WorkspaceFate.Destroy).ToList();
        return destroyed.Select(w => new WakeSubject(w.TenantId, w.Id))
            .Concat(plan.Agents.Where(a => destroyed.Any(w => w.Id == a.WorkspaceId)).Select(a => new WakeSubject(a.TenantId, a.Id)));
    }

    public async Task<StepOutcome> RunAsync(OffboardingRecord offboarding, OffboardingPlan plan, Actor actor, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        var done = new List<string>();
        var waiting = false;
        foreach (var planned in plan.Workspaces.Where(w => w.Fate == WorkspaceFate.Destroy))
        {
            Workspace? workspace;
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
                workspace = await WorkspaceStore.FindAsync(connection, null, planned.TenantId, planned.Id, forUpdate: false, cancellationToken);
            if (workspace is null || workspace.Status == WorkspaceStatus.Destroyed)
            {
                done.Add($"Workspace {planned.Name}: destroyed.");
                continue;
            }
            waiting = true;
            if (workspace.Status is WorkspaceStatus.Destroying or WorkspaceStatus.AwaitingApproval)
            {
                done.Add(workspace.Status == WorkspaceStatus.AwaitingApproval
                    ? $"Workspace {planned.Name}: the destroy plan awaits approval on the workspace's page (approval: {workspace.ApprovalMode})."
                    : $"Workspace {planned.Name}: destroying.");
                continue;
            }
            if (await RemoveAppsAsync(planned, workspace, actor, done, cancellationToken)) continue;

            var destroy = await commands.DestroyAsync(planned.TenantId, planned.Id, workspace.Name, actor, cancellationToken);
            done.Add(destroy.Succeeded ? $"Workspace {planned.Name}: destroy run started (plan, then {workspace.ApprovalMode} approval)."
                : $"Workspace {planned.Name}: destroy waits: {destroy.Errors.For("confirmation") ?? "the workspace is busy"}");
        }
        return waiting ? StepOutcome.Waiting(done, options.Value.WaitInterval) : StepOutcome.Finished(done);
    }

    /// <summary>Asks the agent to remove every live app; true while any is still being removed.</summary>
    private async Task<bool> RemoveAppsAsync(PlannedWorkspace planned, Workspace workspace, Actor actor, List<string> done,
        CancellationToken cancellationToken)
    {
        var live = await apps.ListAsync(planned.TenantId, planned.Id, cancellationToken);
        var removing = false;
        foreach (var view in live)
        {
            if (view.App.DesiredState == AppDesiredState.Installed)
            {
                // The workspace is being destroyed: its apps' volumes go too (kept volumes would outlive the cluster as
                // disks in the tenant's account, which "destroy" promised to remove).
                var removal = await apps.RemoveAsync(planned.TenantId, workspace, view.App.App, view.App.App, deleteData: true, actor,
                    cancellationToken);
                if (!removal.Succeeded)
                {
                    // No agent to remove it through (offline, gone): the destroy run removes the cluster it runs in anyway.
                    done.Add($"Workspace {planned.Name}: app {view.App.App} goes with the cluster ({removal.Errors.For("workspace")}).");
                    continue;
                }
            }
            removing = true;
            done.Add($"Workspace {planned.Name}: removing app {view.App.App} (namespace {view.App.Namespace}).");
        }
        return removing;
    }
}
