using Cogrion.Jobs;
using Cogrion.Portal.Components.Dialogs;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Cogrion.Portal.Infrastructure.Jobs;
using Microsoft.AspNetCore.Components;
using MudBlazor;

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
    [Inject] private JobLogReader JobLogs { get; set; } = default!;
    [Inject] private JobEvents Events { get; set; } = default!;
    [Inject] private TenantChanges Changes { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private AgentRegistry Agents { get; set; } = default!;
    [Inject] private AgentCommandQueue AgentCommands { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private Agents.Versions.AgentVersions AgentVersions { get; set; } = default!;
    [Inject] private KubernetesVersionPolicy VersionPolicy { get; set; } = default!;
    [Inject] private Apps.WorkspaceApps WorkspaceApps { get; set; } = default!;

    private bool loaded;
    private Workspace? workspace;
    private IReadOnlyList<WorkspaceRun> runs = [];
    private WorkspaceRun? activeRun;
    private WorkspaceRun? latestRun;
    private WorkspaceRun? shownRun;
    private AgentSummary? agent;
    private Agents.Versions.AgentVersionStatus? agentVersion;
    private IReadOnlyList<AgentCommandView> agentCommands = [];
    private IReadOnlyList<Apps.WorkspaceAppView> apps = [];
    private DateTimeOffset now;
    private Guid? pinnedRunId;
    private readonly List<JobLogLine> log = [];
    private readonly Dictionary<long, long> lastLineId = [];
    private Guid? logRunId;
    private LiveJobUpdates? stateUpdates;
    private LiveJobUpdates? logUpdates;
    private IDisposable? workspaceUpdates;
    private volatile HashSet<long> runJobIds = [];
    private readonly SemaphoreSlim reloading = new(1, 1);
    private string? destroyError;
    private KubernetesVersionStanding? kubernetes;

    /// <summary>The last run that changes the workspace (an unlock run only clears the way for it), when it failed or was cancelled.</summary>
    private WorkspaceRun? RetryableRun
        => runs.FirstOrDefault(r => r.Kind != RunKind.Unlock) is { Status: RunStatus.Failed or RunStatus.Cancelled } run ? run : null;

    private bool CanOperate => Current.Can(TenantRole.Operator) && Current.Source != Tenants.Access.TenantAccessSource.PlatformAdmin;

    protected override async Task OnTenantReadyAsync()
    {
        await ReloadAsync();
        loaded = true;
        // Only the live circuit follows the run: a prerendered copy is thrown away after the response.
        if (!RendererInfo.IsInteractive) return;
        stateUpdates?.Dispose();
        logUpdates?.Dispose();
        workspaceUpdates?.Dispose();
        // This workspace's own changes (its row, its runs: a new run, a status) and the state of its runs' jobs (the
        // stages), half a second at most; log lines only of the shown run's jobs. Nothing of other workspaces or
        // tenants reloads this page.
        Func<Task> reload = () => InvokeAsync(async () => { await ReloadAsync(); StateHasChanged(); });
        stateUpdates = new LiveJobUpdates(Events,
            n => n.Kind is JobNotificationKind.StateChanged or JobNotificationKind.Queued && runJobIds.Contains(n.JobId),
            TimeSpan.FromMilliseconds(500), reload);
        if (workspace is not null) workspaceUpdates = Changes.Listen(Current.TenantId, workspace.Id, TimeSpan.FromMilliseconds(500), reload);
        logUpdates = new LiveJobUpdates(Events, n => n.Kind is JobNotificationKind.Log && shownRun is { } run && run.JobIds.Contains(n.JobId),
            TimeSpan.FromMilliseconds(100),
            () => InvokeAsync(async () => { await LoadLogAsync(); StateHasChanged(); }));
    }

    private async Task ReloadAsync()
    {
        await reloading.WaitAsync();
        try
        {
            workspace = await Store.FindByNameAsync(Current.TenantId, Name, Aborted);
            runs = workspace is null ? [] : await Store.RunsAsync(Current.TenantId, workspace.Id, 50, Aborted);
            activeRun = runs.FirstOrDefault(r => r.IsActive);
            latestRun = runs.FirstOrDefault();
            shownRun = runs.FirstOrDefault(r => r.Id == pinnedRunId) ?? activeRun ?? latestRun;
            runJobIds = runs.SelectMany(r => r.JobIds).ToHashSet();
            // The workspace's agent, found through the tenant: the agent queries below take its id only
            // once the tenant-scoped lookup returned it.
            now = Time.GetUtcNow();
            kubernetes = workspace is null ? null : VersionPolicy.StandingOf(workspace.Provider, workspace.KubernetesVersion);
            agent = workspace is null ? null : (await Agents.ListForWorkspaceAsync(Current.TenantId, workspace.Id, Aborted)).FirstOrDefault();
            agentCommands = agent is null ? [] : await AgentCommands.HistoryAsync(agent.Id, 50, Aborted);
            agentVersion = agent is null ? null : await AgentVersions.StatusAsync(agent.AgentVersion, Aborted);
            apps = workspace is null ? [] : await WorkspaceApps.ListAsync(Current.TenantId, workspace.Id, Aborted);
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
            var lines = await JobLogs.ReadAsync(jobId, lastLineId.GetValueOrDefault(jobId), MaxLogLines, Aborted);
            if (lines.Count == 0) continue;
            lastLineId[jobId] = lines[^1].Id;
            log.AddRange(lines);
        }
        if (log.Count > MaxLogLines) log.RemoveRange(0, log.Count - MaxLogLines);
    }

    /// <summary>Starts the upgrade run (plan, approval, apply) to the next minor version; the page follows it like any run.</summary>
    private async Task UpgradeKubernetesAsync()
    {
        if (workspace is null) return;
        var result = await Commands.UpgradeKubernetesAsync(Current.TenantId, workspace.Id, User.AsActor(), Aborted);
        Snackbar.Add(result.Succeeded ? $"Upgrade to Kubernetes {result.Value!.KubernetesVersion} queued: review its plan before it applies."
            : result.IsNotFound ? "This workspace no longer exists." : result.Errors.For("kubernetesVersion") ?? "Not possible now.",
            result.Succeeded ? Severity.Success : Severity.Warning);
        pinnedRunId = null;
        await ReloadAsync();
    }

    private async Task ShowRunAsync(WorkspaceRun run)
    {
        pinnedRunId = run.Id;
        await ReloadAsync();
    }

    private async Task ActAsync(Func<Guid, Guid, Guid, Actor, CancellationToken, Task<CommandResult<WorkspaceRun>>> action, Guid runId, string done)
    {
        if (workspace is null) return;
        var result = await action(Current.TenantId, workspace.Id, runId, User.AsActor(), Aborted);
        Snackbar.Add(result.Succeeded ? done : result.IsNotFound ? "That run no longer exists." : result.Errors.For("run") ?? "Not possible now.",
            result.Succeeded ? Severity.Success : Severity.Warning);
        pinnedRunId = null;
        await ReloadAsync();
    }

    /// <summary>Queues the release of the lock the last run could not take; null when queued, else why not.</summary>
    private async Task<string?> ReleaseStateLockAsync(string lockId, string typed)
    {
        if (workspace is null) return "This workspace no longer exists.";
        var result = await Commands.ReleaseStateLockAsync(Current.TenantId, workspace.Id, lockId, typed, User.AsActor(), Aborted);
        if (!result.Succeeded) return result.IsNotFound ? "This workspace no longer exists." : result.Errors.For("confirmation")
            ?? result.Errors.For("lockId");
        Snackbar.Add("Releasing the state lock.", Severity.Success);
        pinnedRunId = null;
        await ReloadAsync();
        return null;
    }

    /// <summary>Destroy is a run too, behind the workspace's name typed in full; the command checks the name again.</summary>
    private async Task ConfirmDestroyAsync()
    {
        if (workspace is not { } w) return;
        destroyError = null;
        var dialog = await Dialogs.ShowAsync<TypedConfirmationDialog>($"Destroy {w.Name}?", new DialogParameters<TypedConfirmationDialog>
        {
            { d => d.Title, $"Destroy {w.Name}?" },
            { d => d.Message,
                $"Every resource of this workspace is deleted: cluster, network{(w.Database is null ? "" : ", and the database with its data")}. " +
                $"This cannot be undone." },
            { d => d.Expected, w.Name },
            { d => d.ActionLabel, "Destroy workspace" },
        }, new DialogOptions { CloseOnEscapeKey = true, MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: string typed }) return;
        var result = await Commands.DestroyAsync(Current.TenantId, w.Id, typed, User.AsActor(), Aborted);
        if (!result.Succeeded)
        {
            destroyError = result.IsNotFound ? "This workspace no longer exists." : result.Errors.For("confirmation");
            return;
        }
        pinnedRunId = null;
        await ReloadAsync();
    }

    protected override void OnDisposing()
    {
        stateUpdates?.Dispose();
        logUpdates?.Dispose();
        workspaceUpdates?.Dispose();
    }
}
