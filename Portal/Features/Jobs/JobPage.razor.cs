using Cogrion.Jobs;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Jobs;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Cogrion.Portal.Features.Jobs;

public partial class JobPage
{
    private const int MaxLogLines = 5000;

    [Parameter] public long Id { get; set; }

    [Inject] private JobConsoleQueries Queries { get; set; } = default!;
    [Inject] private JobConsoleActions Actions { get; set; } = default!;
    [Inject] private JobEvents Events { get; set; } = default!;
    [Inject] private JobLogReader JobLogs { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private bool loaded;
    private JobDetail? job;
    private IReadOnlyList<JobAttempt> attempts = [];
    private readonly List<JobLogLine> log = [];
    private LiveJobUpdates? stateUpdates;
    private LiveJobUpdates? logUpdates;
    private readonly SemaphoreSlim reloading = new(1, 1);

    private string Subtitle => job is null ? "" : $"Queued {JobFormat.Time(job.CreatedAt)} UTC by {job.CreatedBy}";

    protected override async Task OnParametersSetAsync()
    {
        stateUpdates?.Dispose();
        logUpdates?.Dispose();
        log.Clear();
        await ReloadAsync();
        loaded = true;
        if (!RendererInfo.IsInteractive) return;
        // This job's own changes only; a quarter of a second keeps a streaming log lively without a query per line.
        stateUpdates = new LiveJobUpdates(Events, n => n.JobId == Id && n.Kind is not JobNotificationKind.Log, TimeSpan.FromMilliseconds(250),
            () => InvokeAsync(async () => { await ReloadAsync(); StateHasChanged(); }));
        logUpdates = new LiveJobUpdates(Events, n => n.JobId == Id && n.Kind is JobNotificationKind.Log, TimeSpan.FromMilliseconds(250),
            () => InvokeAsync(async () => { await LoadNewLogLinesAsync(); StateHasChanged(); }));
    }

    private async Task ReloadAsync()
    {
        await reloading.WaitAsync();
        try
        {
            job = await Queries.FindAsync(Id, Aborted);
            attempts = job is null ? [] : await Queries.AttemptsAsync(Id, Aborted);
        }
        finally
        {
            reloading.Release();
        }
        await LoadNewLogLinesAsync();
    }

    private async Task LoadNewLogLinesAsync()
    {
        var after = log.Count == 0 ? 0 : log[^1].Id;
        var lines = await JobLogs.ReadAsync(Id, after, MaxLogLines, Aborted);
        log.AddRange(lines);
        if (log.Count > MaxLogLines) log.RemoveRange(0, log.Count - MaxLogLines);
    }

    private sealed record TimelineStep(DateTimeOffset At, string Text);

    private IEnumerable<TimelineStep> Timeline()
    {
        if (job is null) yield break;
        var steps = new List<TimelineStep> { new(job.CreatedAt, $"queued by {job.CreatedBy}") };
        foreach (var a in attempts)
        {
            if (a.StartedAt is { } started) steps.Add(new(started, $"attempt {a.Attempt} started on {a.WorkerId}"));
            steps.Add(new(a.FinishedAt, $"attempt {a.Attempt} {a.Outcome.Replace('_', ' ')}"));
        }
        if (job.State == JobStates.Running && job.StartedAt is { } current)
            steps.Add(new(current, $"attempt {job.Attempt} started on {job.WorkerId} (running)"));
        if (job.State == JobStates.Queued && job.Attempt > 0)
            steps.Add(new(job.RunAfter, "next attempt due"));
        if (job.CancelRequestedAt is { } cancel) steps.Add(new(cancel, "cancel requested"));
        if (job.FinishedAt is { } finished && JobStates.IsFinal(job.State)) steps.Add(new(finished, $"ended {job.State}"));
        foreach (var step in steps.OrderBy(s => s.At)) yield return step;
    }

    private async Task<Actor> ActorAsync()
    {
        var user = (await AuthenticationState).User;
        return user.AsActor();
    }

    private Task RetryAsync()
        => ActAsync("Retry this job?", $"Job {Id} goes back to the queue with a fresh set of attempts.", "Retry", Actions.RetryAsync);

    private Task CancelAsync()
        => ActAsync("Cancel this job?",
        $"A queued job never starts; a running job is asked to stop at once, and abandoned if it does not stop within the grace period.",
        "Cancel job", Actions.CancelAsync);

    private async Task DeleteAsync()
    {
        await ActAsync("Delete this job?",
            $"Job {Id}, its attempts and its log are deleted for good. The audit trail keeps a record of the deletion.", "Delete",
            Actions.DeleteAsync);
        if (await Queries.FindAsync(Id, Aborted) is null) Navigation.NavigateTo("admin/jobs");
    }

    private async Task ActAsync(string title, string message, string confirm, Func<Actor, long, CancellationToken, Task<JobActionResult>> action)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync(title, message, yesText: confirm, cancelText: "Keep as is");
        if (confirmed != true) return;
        var result = await action(await ActorAsync(), Id, Aborted);
        Snackbar.Add(result.Message, result.Done ? Severity.Success : Severity.Warning);
        await ReloadAsync();
    }

    protected override void OnDisposing()
    {
        stateUpdates?.Dispose();
        logUpdates?.Dispose();
    }
}
