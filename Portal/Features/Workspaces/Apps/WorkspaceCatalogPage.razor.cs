using Cogrion.Portal.Features.Tenants;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>The catalog as one workspace sees it: every app as a card, with Install (operators) or a link to the installed app.</summary>
public partial class WorkspaceCatalogPage
{
    [Parameter] public string Name { get; set; } = "";

    [Inject] private WorkspaceStore Store { get; set; } = default!;
    [Inject] private WorkspaceApps Apps { get; set; } = default!;
    [Inject] private AppCatalog Catalog { get; set; } = default!;

    private bool loaded;
    private Workspace? workspace;
    private HashSet<string> installedApps = [];

    private string WorkspaceHref => $"t/{Current.Slug}/workspaces/{Name}";

    private bool CanOperate => Current.Can(TenantRole.Operator) && Current.Source != Tenants.Access.TenantAccessSource.PlatformAdmin;

    protected override async Task OnTenantReadyAsync()
    {
        // Tenant first: a workspace name of another tenant finds nothing here.
        workspace = await Store.FindByNameAsync(Current.TenantId, Name, Aborted);
        installedApps = workspace is null ? []
            : (await Apps.ListAsync(Current.TenantId, workspace.Id, Aborted)).Select(a => a.App.App).ToHashSet(StringComparer.Ordinal);
        loaded = true;
    }
}
