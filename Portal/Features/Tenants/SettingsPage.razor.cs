using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.Tenants;

/// <summary>A tenant's name and domain, for its admins. The rules live in <see cref="TenantStore"/>; the page shows their answers per
/// field.</summary>
public partial class SettingsPage
{
    [Inject] private TenantStore Tenants { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    private string? name;
    private string? domain;
    private string zone = "";
    private FieldErrors errors = new();

    protected override async Task OnTenantReadyAsync()
    {
        name = Current.Tenant.Name;
        domain = Current.Tenant.Domain;
        zone = await Tenants.ParentZoneAsync(Current.Tenant.ParentId, Aborted) ?? Tenants.BaseDomain;
    }

    private async Task SaveAsync()
    {
        var result = await Tenants.UpdateAsync(Current.TenantId, name, domain, User.AsActor(), Aborted);
        errors = result.Errors;
        if (result.Succeeded) Snackbar.Add("Saved.", Severity.Success);
    }
}
