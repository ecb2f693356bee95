using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Features.Agents.Install;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Features.Agents.Pages;

public partial class FleetPage
{
    [Inject] private AgentRegistry Registry { get; set; } = default!;
    [Inject] private AgentOperations Operations { get; set; } = default!;
    [Inject] private InstallManifest Manifest { get; set; } = default!;
    [Inject] private IOptions<AgentApiOptions> Options { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private FleetOverview? overview;
    private IReadOnlyList<AgentSummary> agents = [];
    private DateTimeOffset now;
    private string? tenantId;
    private string? workspaceId;
    private string? manifest;
    private string? expiresAt;
    private string? installProblem;

    private string ManifestDataUri => "data:application/yaml;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes(manifest ?? ""));

    protected override async Task OnInitializedAsync()
    {
        now = Time.GetUtcNow();
        overview = await Registry.FleetOverviewAsync(CancellationToken.None);
        agents = await Registry.ListFleetAsync(500, CancellationToken.None);
    }

    private async Task MintAsync()
    {
        manifest = null;
        installProblem = null;
        if (!Guid.TryParse(tenantId, out var tenant) || !Guid.TryParse(workspaceId, out var workspace))
        {
            installProblem = "Enter the tenant id and the workspace id (both are UUIDs, shown on the workspace's page).";
            return;
        }
        var user = (await AuthenticationState).User;
        var actor = user.AsActor();
        var minted = await Operations.MintBootstrapTokenAsync(tenant, workspace, actor, CancellationToken.None);
        if (minted.IsNotFound)
        {
            installProblem = "No workspace with that id exists in that tenant: copy both ids from the workspace's page.";
            return;
        }
        var token = minted.Value!;
        var portalUrl = string.IsNullOrWhiteSpace(Options.Value.PublicUrl) ? Navigation.BaseUri.TrimEnd('/') : Options.Value.PublicUrl;
        manifest = Manifest.Render(token, portalUrl);
        expiresAt = token.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm");
    }
}
