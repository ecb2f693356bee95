using MudBlazor;

namespace Cogrion.Portal.Features.Jobs;

/// <summary>The job console's chart rows as MudBlazor series, with the same figures in words.</summary>
public sealed record JobChartView(
    string[] Labels,
    List<ChartSeries<double>> Finished,
    List<ChartSeries<double>> Queue,
    string FinishedSummary,
    string QueueSummary)
{
    /// <summary>At most this many axis labels are written out; the others stay empty so they do not overlap.</summary>
    private const int MaxLabels = 12;

    public static JobChartView From(IReadOnlyList<JobCharts.ChartRow> rows)
    {
        var every = Math.Max(1, (int)Math.Ceiling(rows.Count / (double)MaxLabels));
        var labels = rows.Select((r, i) => i % every == 0 ? r.Label : "").ToArray();
        var succeeded = rows.Sum(r => r.Succeeded);
        var failed = rows.Sum(r => r.Failed);
        var queued = rows.Count == 0 ? 0 : rows[^1].Queued;
        var peak = rows.Count == 0 ? 0 : rows.Max(r => r.Queued);
        return new JobChartView(
            labels,
            [
                new ChartSeries<double> { Name = "Succeeded", Data = rows.Select(r => (double)r.Succeeded).ToArray() },
                new ChartSeries<double> { Name = "Failed", Data = rows.Select(r => (double)r.Failed).ToArray() },
            ],
            [new ChartSeries<double> { Name = "Queued", Data = rows.Select(r => (double)r.Queued).ToArray() }],
            $"{succeeded} succeeded and {failed} failed in this span.",
            $"{queued} due now; at most {peak} in this span.");
    }
}
