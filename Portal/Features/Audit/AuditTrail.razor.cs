using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.WebUtilities;
using Radzen;
using Radzen.Blazor;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Features.Audit;

/// <summary>The audit grid and its filters. The page that hosts it decides the <see cref="Scope"/>: what this reader may see.</summary>
public partial class AuditTrail
{
    private static readonly string[] ActorKinds = ["user", "agent", "system"];

    [Inject] private AuditQueries Queries { get; set; } = default!;

    [Parameter, EditorRequired] public AuditScope Scope { get; set; } = default!;

    /// <summary>Where the export endpoint for this scope lives (e.g. <c>api/v1/tenants/acme/audit/export</c>); no export links when null.</summary>
    [Parameter] public string? ExportPath { get; set; }

    private RadzenDataGrid<AuditEvent>? grid;
    private const int PageSize = 25;
    private IReadOnlyList<AuditEvent> events = [];
    private int total;
    private bool loading;
    private readonly FilterModel filter = new();

    private sealed class FilterModel
    {
        public string? Action { get; set; }
        public string? Actor { get; set; }
        public string? ActorKind { get; set; }
        public DateTime? From { get; set; }
        public DateTime? To { get; set; }

        public AuditFilter ToFilter() => new(
            From is { } from ? new DateTimeOffset(DateTime.SpecifyKind(from, DateTimeKind.Utc)) : null,
            To is { } to ? new DateTimeOffset(DateTime.SpecifyKind(to, DateTimeKind.Utc)) : null,
            Action, Actor, ActorKind);
    }

    // The first page is loaded here rather than left to the grid, so it is there from the first render
    // (prerendered too): waiting for the grid to ask raced with circuit start-up and could show an
    // empty trail. The grid's LoadData takes over for paging and filters.
    protected override Task OnInitializedAsync() => LoadPageAsync(0, PageSize);

    private Task LoadAsync(LoadDataArgs args) => LoadPageAsync(args.Skip ?? 0, args.Top ?? PageSize);

    private async Task LoadPageAsync(int skip, int take)
    {
        loading = true;
        var page = await Queries.SearchAsync(Scope, filter.ToFilter(), skip, take, CancellationToken.None);
        events = page.Events;
        total = (int)Math.Min(page.Total, int.MaxValue);
        loading = false;
    }

    private async Task ApplyFiltersAsync()
    {
        if (grid is not null) await grid.FirstPage(forceReload: true);
    }

    private async Task ClearFiltersAsync()
    {
        filter.Action = filter.Actor = filter.ActorKind = null;
        filter.From = filter.To = null;
        await ApplyFiltersAsync();
    }

    private string ExportUrl(string format)
    {
        var query = new Dictionary<string, string?> { ["format"] = format };
        var current = filter.ToFilter();
        if (!string.IsNullOrWhiteSpace(current.Action)) query["action"] = current.Action;
        if (!string.IsNullOrWhiteSpace(current.Actor)) query["actor"] = current.Actor;
        if (!string.IsNullOrWhiteSpace(current.ActorKind)) query["actorKind"] = current.ActorKind;
        if (current.From is { } from) query["from"] = from.ToString("O");
        if (current.To is { } to) query["to"] = to.ToString("O");
        return QueryHelpers.AddQueryString(ExportPath!, query);
    }

    private static string Short(string? requestId) => requestId is { Length: > 12 } ? requestId[..12] + "…" : requestId ?? "";
}
