using Cogrion.Portal.Features.Tenants.Access;

namespace Cogrion.Portal.Features.Tenants;

public partial class TenantSwitcher
{
    private IReadOnlyList<TenantSummary> entryPoints = [];

    private IReadOnlyList<TenantSummary> Options =>
        CurrentTenant is { } current && entryPoints.All(t => t.Id != current.TenantId)
            // A child tenant reached through a parent's membership: list it too, so the list shows where you are.
            ? [.. entryPoints, new TenantSummary(current.TenantId, current.Slug, current.Tenant.Name, current.Tenant.Domain, current.Role)]
            : entryPoints;

    protected override async Task OnUserKnownAsync()
    {
        if (User.Identity?.IsAuthenticated == true)
            entryPoints = await TenantAccess.ListEntryPointsAsync(User, Aborted);
    }

    private void Switch(string? slug)
    {
        if (!string.IsNullOrEmpty(slug) && slug != CurrentTenant?.Slug) Navigation.NavigateTo($"t/{Uri.EscapeDataString(slug)}");
    }
}
