using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Jobs;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Cogrion.Portal.Features.Jobs;

/// <summary>The platform admins' job console: charts, filters, the live list paged on the server, and the diagnostic job.</summary>
public partial class JobsPage
{
    /// <summary>The list follows changes at most once a second; the charts every ten (they aggregate, nobody needs them faster).</summary>
    private static readonly TimeSpan ListRefresh = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ChartRefresh = TimeSpan.FromSeconds(10);

    [Inject] private JobConsoleQueries Queries { get; set; } = default!;
    [Inject] private JobEvents Events { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private MudDataGrid<JobListItem>? grid;
    private bool neverAnyJob;
    private IReadOnlyList<string> kinds = [];
    private IReadOnlyList<JobCharts.ChartRow>? chart;
    private string chartSpan = "hour";
    private DateTimeOffset now;
    private readonly JobConsoleFilters filters = new();
    private LiveJobUpdates? listUpdates;
    private LiveJobUpdates? chartUpdates;

    protected override async Task OnInitializedAsync()
    {
        now = Time.GetUtcNow();
        kinds = await Queries.KindsAsync(Aborted);
        await LoadChartAsync();
        if (!RendererInfo.IsInteractive) return;
        // State changes, new and deleted jobs change the list; log lines do not.
        listUpdates = new LiveJobUpdates(Events, n => n.Kind is not JobNotificationKind.Log, ListRefresh,
            () => InvokeAsync(async () => { if (grid is not null) await grid.ReloadServerData(); }));
        chartUpdates = new LiveJobUpdates(Events, n => n.Kind is JobNotificationKind.StateChanged, ChartRefresh,
            () => InvokeAsync(async () => { await LoadChartAsync(); StateHasChanged(); }));
    }

    private async Task<GridData<JobListItem>> LoadAsync(GridState<JobListItem> state, CancellationToken gridToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(gridToken, Aborted);
        now = Time.GetUtcNow();
        var page = await Queries.SearchAsync(filters.ToFilter(), state.Page * state.PageSize, state.PageSize, both.Token);
        var wasEmpty = neverAnyJob;
        neverAnyJob = page.Total == 0 && filters.IsEmpty;
        if (wasEmpty != neverAnyJob) StateHasChanged();
        return new GridData<JobListItem> { Items = page.Jobs, TotalItems = (int)Math.Min(page.Total, int.MaxValue) };
    }

    private async Task LoadChartAsync()
    {
        var (span, bucket) = chartSpan == "day" ? (TimeSpan.FromDays(1), TimeSpan.FromMinutes(30)) : (TimeSpan.FromHours(1), TimeSpan.FromMinutes(1));
        var points = await Queries.ChartAsync(span, bucket, Aborted);
        chart = points.Select(p => new JobCharts.ChartRow(p.At.UtcDateTime.ToString("HH:mm"), p.Succeeded, p.Failed, p.Queued)).ToList();
    }

    private async Task ChangeChartSpanAsync(string span)
    {
        chartSpan = span;
        await LoadChartAsync();
    }

    private async Task ApplyFiltersAsync()
    {
        if (grid is null) return;
        grid.NavigateTo(Page.First);
        await grid.ReloadServerData();
    }

    private async Task ClearFiltersAsync()
    {
        filters.Clear();
        await ApplyFiltersAsync();
    }

    private async Task OpenDiagnosticDialogAsync()
    {
        var actor = (await AuthenticationState).User.AsActor();
        var dialog = await Dialogs.ShowAsync<DiagnosticJobDialog>("Run a diagnostic job",
            new DialogParameters<DiagnosticJobDialog> { { d => d.Actor, actor } },
            new DialogOptions { CloseOnEscapeKey = true, MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: long id }) return;
        Snackbar.Add($"Diagnostic job {id} queued", Severity.Success);
        neverAnyJob = false;
        kinds = await Queries.KindsAsync(Aborted);
        if (grid is not null) await grid.ReloadServerData();
    }

    protected override void OnDisposing()
    {
        listUpdates?.Dispose();
        chartUpdates?.Dispose();
    }
}
