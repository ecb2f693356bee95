using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Radzen;
using Radzen.Blazor;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Features.Jobs;

public partial class JobsPage
{
    /// <summary>The list follows changes at most once a second; the charts every ten (they aggregate, nobody needs them faster).</summary>
    private static readonly TimeSpan ListRefresh = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ChartRefresh = TimeSpan.FromSeconds(10);

    [Inject] private JobConsoleQueries Queries { get; set; } = default!;
    [Inject] private JobConsoleActions Actions { get; set; } = default!;
    [Inject] private JobEvents Events { get; set; } = default!;
    [Inject] private DialogService Dialogs { get; set; } = default!;
    [Inject] private NotificationService Notifications { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private RadzenDataGrid<JobListItem>? grid;
    private IReadOnlyList<JobListItem>? jobs;
    private int total;
    private bool loading;
    private bool neverAnyJob;
    private IReadOnlyList<string> kinds = [];
    private IReadOnlyList<JobCharts.ChartRow>? chart;
    private string chartSpan = "hour";
    private string? filterProblem;
    private DateTimeOffset now;
    private readonly FilterModel filter = new();
    private LiveJobUpdates? listUpdates;
    private LiveJobUpdates? chartUpdates;

    private sealed class FilterModel
    {
        public string? State { get; set; }
        public string? Kind { get; set; }
        public string? Tenant { get; set; }
        public DateTime? From { get; set; }
        public DateTime? To { get; set; }
    }

    protected override async Task OnInitializedAsync()
    {
        now = Time.GetUtcNow();
        kinds = await Queries.KindsAsync(CancellationToken.None);
        await LoadChartAsync();
        // State changes, new and deleted jobs change the list; log lines do not.
        listUpdates = new LiveJobUpdates(Events, n => n.Kind is not JobNotificationKind.Log, ListRefresh,
            () => InvokeAsync(async () => { if (grid is not null) await grid.Reload(); }));
        chartUpdates = new LiveJobUpdates(Events, n => n.Kind is JobNotificationKind.StateChanged, ChartRefresh,
            () => InvokeAsync(async () => { await LoadChartAsync(); StateHasChanged(); }));
    }

    private async Task LoadAsync(LoadDataArgs args)
    {
        loading = true;
        now = Time.GetUtcNow();
        var page = await Queries.SearchAsync(ToFilter(), args.Skip ?? 0, args.Top ?? 25, CancellationToken.None);
        jobs = page.Jobs;
        total = (int)Math.Min(page.Total, int.MaxValue);
        var wasEmpty = neverAnyJob;
        neverAnyJob = page.Total == 0 && IsUnfiltered;
        loading = false;
        if (wasEmpty != neverAnyJob) StateHasChanged();
    }

    private bool IsUnfiltered => filter is { State: null, Kind: null, Tenant: null or "", From: null, To: null };

    private JobFilter ToFilter()
    {
        filterProblem = null;
        Guid? tenant = null;
        if (!string.IsNullOrWhiteSpace(filter.Tenant))
        {
            if (Guid.TryParse(filter.Tenant.Trim(), out var id)) tenant = id;
            else filterProblem = $"'{filter.Tenant}' is not a tenant id (a UUID); the tenant filter is ignored.";
        }
        return new JobFilter(filter.State, filter.Kind, tenant,
            filter.From is { } from ? new DateTimeOffset(DateTime.SpecifyKind(from, DateTimeKind.Utc)) : null,
            filter.To is { } to ? new DateTimeOffset(DateTime.SpecifyKind(to, DateTimeKind.Utc)) : null);
    }

    private async Task LoadChartAsync()
    {
        var (span, bucket, format) = chartSpan == "day"
            ? (TimeSpan.FromDays(1), TimeSpan.FromMinutes(30), "HH:mm")
            : (TimeSpan.FromHours(1), TimeSpan.FromMinutes(1), "HH:mm");
        var points = await Queries.ChartAsync(span, bucket, CancellationToken.None);
        chart = points.Select(p => new JobCharts.ChartRow(p.At.UtcDateTime.ToString(format), p.Succeeded, p.Failed, p.Queued)).ToList();
    }

    private async Task ChangeChartSpanAsync(string span)
    {
        chartSpan = span;
        await LoadChartAsync();
    }

    private async Task ApplyFiltersAsync()
    {
        if (grid is not null) await grid.FirstPage(forceReload: true);
    }

    private async Task ClearFiltersAsync()
    {
        filter.State = filter.Kind = filter.Tenant = null;
        filter.From = filter.To = null;
        await ApplyFiltersAsync();
    }

    private async Task OpenDiagnosticDialogAsync()
    {
        var user = (await AuthenticationState).User;
        var actor = user.AsActor();
        var result = await Dialogs.OpenAsync<DiagnosticJobDialog>("Run a diagnostic job",
            new Dictionary<string, object?> { [nameof(DiagnosticJobDialog.Actor)] = actor },
            new DialogOptions { Width = "480px", CloseDialogOnEsc = true });
        if (result is long id)
        {
            Notifications.Notify(new NotificationMessage { Severity = NotificationSeverity.Success, Summary = $"Diagnostic job {id} queued", Duration = 6000 });
            neverAnyJob = false;
            kinds = await Queries.KindsAsync(CancellationToken.None);
            if (grid is not null) await grid.Reload();
        }
    }

    public void Dispose()
    {
        listUpdates?.Dispose();
        chartUpdates?.Dispose();
    }
}
