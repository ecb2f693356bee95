using Cogrion.Jobs;
using Cogrion.Portal.Components;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Workspaces;

public partial class WorkspaceList
{
    [Inject] private WorkspaceStore Store { get; set; } = default!;
    [Inject] private JobEvents Events { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    [Parameter, EditorRequired] public TenantContext Context { get; set; } = default!;

    private IReadOnlyList<WorkspaceSummary>? workspaces;
    private LiveJobUpdates? updates;

    private bool CanCreate => Context.Can(TenantRole.Operator);

    protected override async Task OnInitializedAsync()
    {
        await LoadAsync();
        // Only the live circuit follows changes: a prerendered copy is thrown away after the response.
        if (!RendererInfo.IsInteractive) return;
        // Job notifications carry no tenant: any job change may be one of ours, and one cheap query a second is the price.
        updates = new LiveJobUpdates(Events, n => n.Kind is JobNotificationKind.StateChanged or JobNotificationKind.Queued, TimeSpan.FromSeconds(1),
            () => InvokeAsync(async () => { await LoadAsync(); StateHasChanged(); }));
    }

    private async Task LoadAsync() => workspaces = await Store.ListAsync(Context.TenantId, includeDestroyed: false, Aborted);

    private string AgentHealth(WorkspaceSummary item) => WorkspaceAgentHealth.Describe(item, Time.GetUtcNow());

    protected override void OnDisposing() => updates?.Dispose();
}
