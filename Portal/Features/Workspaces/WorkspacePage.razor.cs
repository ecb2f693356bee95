using Microsoft.AspNetCore.Components;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Radzen;
using Cogrion.Portal.Features.Jobs;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>
/// One workspace: inputs, outputs, run history and the live log of its run. The run's log is the log
/// of its jobs (plan, then apply), followed through the same notifications as the admin job console.
/// </summary>
public partial class WorkspacePage
{
    private const int MaxLogLines = 5000;

    [Parameter] public string Name { get; set; } = "";

    [Inject] private WorkspaceStore Store { get; set; } = default!;
    [Inject] private WorkspaceCommands Commands { get; set; } = default!;
    [Inject] private JobConsoleQueries Jobs { get; set; } = default!;
    [Inject] private JobEvents Events { get; set; } = default!;
    [Inject] private NotificationService Notifications { get; set; } = default!;
    [Inject] private AgentRegistry Agents { get; set; } = default!;
    [Inject] private AgentCommandQueue AgentCommands { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    private bool loaded;
    private Workspace? workspace;
    private IReadOnlyList<WorkspaceRun> runs = [];
    private WorkspaceRun? activeRun;
    private WorkspaceRun? latestRun;
    private WorkspaceRun? shownRun;
    private AgentSummary? agent;
    private IReadOnlyList<AgentCommandView> agentCommands = [];
    private DateTimeOffset now;
    private Guid? pinnedRunId;
    private readonly List<JobLogLine> log = [];
    private readonly Dictionary<long, long> lastLineId = [];
    private Guid? logRunId;
    private LiveJobUpdates? stateUpdates;
    private LiveJobUpdates? logUpdates;
    private readonly SemaphoreSlim reloading = new(1, 1);
    private bool confirming;
    private string typedName = "";
    private string? destroyError;

    private bool CanOperate => Current.Can(TenantRole.Operator) && Current.Source != Tenants.Access.TenantAccessSource.PlatformAdmin;

    protected override async Task OnTenantReadyAsync()
    {
        await ReloadAsync();
        loaded = true;
        // Job notifications carry ids only: state changes of any job may move this workspace (half a second at most);
        // log lines only of the shown run's jobs (a quarter second, as the job console).
        stateUpdates = new LiveJobUpdates(Events, n => n.Kind is JobNotificationKind.StateChanged or JobNotificationKind.Queued, TimeSpan.FromMilliseconds(500),
            () => InvokeAsync(async () => { await ReloadAsync(); StateHasChanged(); }));
        logUpdates = new LiveJobUpdates(Events, n => n.Kind is JobNotificationKind.Log && shownRun is { } run && run.JobIds.Contains(n.JobId), TimeSpan.FromMilliseconds(100),
            () => InvokeAsync(async () => { await LoadLogAsync(); StateHasChanged(); }));
    }

    private async Task ReloadAsync()
    {
        await reloading.WaitAsync();
        try
        {
            workspace = await Store.FindByNameAsync(Current.TenantId, Name, CancellationToken.None);
            runs = workspace is null ? [] : await Store.RunsAsync(Current.TenantId, workspace.Id, 50, CancellationToken.None);
            activeRun = runs.FirstOrDefault(r => r.IsActive);
            latestRun = runs.FirstOrDefault();
            shownRun = runs.FirstOrDefault(r => r.Id == pinnedRunId) ?? activeRun ?? latestRun;
            // The workspace's agent, found through the tenant: the agent queries below take its id only
            // once the tenant-scoped lookup returned it.
            now = Time.GetUtcNow();
            agent = workspace is null ? null : (await Agents.ListForWorkspaceAsync(Current.TenantId, workspace.Id, CancellationToken.None)).FirstOrDefault();
            agentCommands = agent is null ? [] : await AgentCommands.HistoryAsync(agent.Id, 50, CancellationToken.None);
        }
        finally
        {
            reloading.Release();
        }
        await LoadLogAsync();
    }

    private async Task LoadLogAsync()
    {
        if (shownRun is not { } run) return;
        if (logRunId != run.Id)
        {
            log.Clear();
            lastLineId.Clear();
            logRunId = run.Id;
        }
        foreach (var jobId in run.JobIds)
        {
            var lines = await Jobs.LogAsync(jobId, lastLineId.GetValueOrDefault(jobId), MaxLogLines, CancellationToken.None);
            if (lines.Count == 0) continue;
            lastLineId[jobId] = lines[^1].Id;
            log.AddRange(lines);
        }
        if (log.Count > MaxLogLines) log.RemoveRange(0, log.Count - MaxLogLines);
    }

    private async Task ShowRunAsync(WorkspaceRun run)
    {
        pinnedRunId = run.Id;
        await ReloadAsync();
    }

    private async Task ActAsync(Func<Guid, Guid, Guid, Actor, CancellationToken, Task<CommandResult<WorkspaceRun>>> action, Guid runId, string done)
    {
        if (workspace is null) return;
        var result = await action(Current.TenantId, workspace.Id, runId, User.AsActor(), CancellationToken.None);
        Notifications.Notify(new NotificationMessage
        {
            Severity = result.Succeeded ? NotificationSeverity.Success : NotificationSeverity.Warning,
            Summary = result.Succeeded ? done : result.IsNotFound ? "That run no longer exists." : result.Errors.For("run") ?? "Not possible now.",
            Duration = 6000,
        });
        pinnedRunId = null;
        await ReloadAsync();
    }

    private async Task DestroyAsync()
    {
        if (workspace is null) return;
        var result = await Commands.DestroyAsync(Current.TenantId, workspace.Id, typedName, User.AsActor(), CancellationToken.None);
        if (!result.Succeeded)
        {
            destroyError = result.IsNotFound ? "This workspace no longer exists." : result.Errors.For("confirmation");
            return;
        }
        confirming = false;
        pinnedRunId = null;
        await ReloadAsync();
    }

    public void Dispose()
    {
        stateUpdates?.Dispose();
        logUpdates?.Dispose();
    }
}
