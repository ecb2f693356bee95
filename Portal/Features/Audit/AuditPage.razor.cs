using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Radzen;
using Radzen.Blazor;
using Cogrion.Portal.Infrastructure.Authentication;

namespace Cogrion.Portal.Features.Audit;

public partial class AuditPage
{
    private static readonly string[] ActorKinds = ["user", "agent", "system"];

    [Inject] private AuditQueries Queries { get; set; } = default!;
    [Inject] private IAuthorizationService Authorization { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private RadzenDataGrid<AuditEvent>? grid;
    private IReadOnlyList<AuditEvent> events = [];
    private int total;
    private bool loading;
    // Null until the reader is known: the grid is not rendered (and so loads nothing) before that.
    private AuditScope? scope;
    private string subtitle = "";
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

    protected override async Task OnInitializedAsync()
    {
        var user = (await AuthenticationState).User;
        if ((await Authorization.AuthorizeAsync(user, PortalPolicies.PlatformAdmin)).Succeeded)
        {
            scope = new AuditScope.Everything();
            subtitle = "Every change made by a person, an agent or the Portal itself, across the platform.";
        }
        else
        {
            scope = new AuditScope.OwnActions(user.GetUserId()?.ToString() ?? "");
            subtitle = "The changes you made. Tenant admins will read their whole tenant's trail here.";
        }
        // The first page is loaded here rather than left to the grid, so it is there from the first
        // render (prerendered too); the grid's LoadData takes over for paging and filters.
        await LoadPageAsync(0, PageSize);
    }

    private const int PageSize = 25;

    private Task LoadAsync(LoadDataArgs args) => LoadPageAsync(args.Skip ?? 0, args.Top ?? PageSize);

    private async Task LoadPageAsync(int skip, int take)
    {
        if (scope is null) return;
        loading = true;
        var page = await Queries.SearchAsync(scope, filter.ToFilter(), skip, take, CancellationToken.None);
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

    private static string Short(string? requestId) => requestId is { Length: > 12 } ? requestId[..12] + "…" : requestId ?? "";
}
