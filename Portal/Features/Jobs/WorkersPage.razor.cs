using Cogrion.Jobs;
using Cogrion.Portal.Components.Controls;
using Cogrion.Portal.Infrastructure.Jobs;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Jobs;

/// <summary>Every replica's worker pool, live: job changes refresh it, and heartbeats are re-read on a slow beat.</summary>
public partial class WorkersPage
{
    /// <summary>Heartbeats are not announced (that would wake every page every few seconds for nothing): re-read on this beat.</summary>
    private static readonly TimeSpan HeartbeatRefresh = TimeSpan.FromSeconds(10);

    [Inject] private JobConsoleQueries Queries { get; set; } = default!;
    [Inject] private JobEvents Events { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private IOptions<JobsOptions> JobsOptions { get; set; } = default!;

    private IReadOnlyList<JobWorker>? workers;
    private LiveJobUpdates? updates;
    private ITimer? heartbeatRefresh;

    protected override async Task OnInitializedAsync()
    {
        workers = await Queries.WorkersAsync(Aborted);
        if (!RendererInfo.IsInteractive) return;
        updates = new LiveJobUpdates(Events, n => n.Kind is JobNotificationKind.StateChanged or JobNotificationKind.Queued, TimeSpan.FromSeconds(2),
            RefreshAsync);
        // So a lost replica turns red without a reload.
        heartbeatRefresh = Time.CreateTimer(_ => _ = RefreshAsync(), null, HeartbeatRefresh, HeartbeatRefresh);
    }

    private async Task RefreshAsync()
    {
        try
        {
            var fresh = await Queries.WorkersAsync(Aborted);
            await InvokeAsync(() => { workers = fresh; StateHasChanged(); });
        }
        catch (OperationCanceledException)
        {
            // The page went away.
        }
    }

    private string Status(JobWorker worker) =>
        worker.StoppedAt is not null ? "stopped"
        : Time.GetUtcNow() - worker.HeartbeatAt > JobsOptions.Value.LeaseDuration ? "lost"
        : "live";

    private static StatusTone Tone(string status) => status switch
    {
        "live" => StatusTone.Success,
        "lost" => StatusTone.Error,
        _ => StatusTone.Neutral,
    };

    protected override void OnDisposing()
    {
        updates?.Dispose();
        heartbeatRefresh?.Dispose();
    }
}
