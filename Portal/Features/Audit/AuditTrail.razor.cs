using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.Audit;

/// <summary>The audit grid and its filters. The page that hosts it decides the <see cref="Scope"/>: what this reader may see.</summary>
public partial class AuditTrail
{
    private const int PageSize = 25;

    [Inject] private AuditQueries Queries { get; set; } = default!;

    [Parameter, EditorRequired] public AuditScope Scope { get; set; } = default!;

    /// <summary>Where the export endpoint for this scope lives (e.g. <c>api/v1/tenants/acme/audit/export</c>); no export links when null.</summary>
    [Parameter] public string? ExportPath { get; set; }

    private MudDataGrid<AuditEvent>? grid;
    private readonly AuditTrailFilters filters = new();

    // The grid asks for each page (first render, paging, filters); the database does the paging.
    private async Task<GridData<AuditEvent>> LoadAsync(GridState<AuditEvent> state, CancellationToken gridToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(gridToken, Aborted);
        var page = await Queries.SearchAsync(Scope, filters.ToFilter(), state.Page * state.PageSize, state.PageSize, both.Token);
        return new GridData<AuditEvent> { Items = page.Events, TotalItems = (int)Math.Min(page.Total, int.MaxValue) };
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

    private static string Short(string? requestId) => requestId is { Length: > 12 } ? requestId[..12] + "…" : requestId ?? "";
}
