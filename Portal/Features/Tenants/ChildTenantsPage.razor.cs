using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.Tenants;

/// <summary>The tenant's subtree, and (for its admins) a form to create a child under it.</summary>
public partial class ChildTenantsPage
{
    [Inject] private TenantStore Tenants { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    private IReadOnlyCollection<ITreeItemData<TenantTreeNode>> tree = [];
    private ChildTenantForm form = new(null, "");

    protected override async Task OnTenantReadyAsync()
    {
        form = new ChildTenantForm(Current.TenantId, Current.Tenant.Domain);
        await LoadTreeAsync();
    }

    private async Task LoadTreeAsync() => tree = TenantTree.Build(await Tenants.GetSubtreeAsync(Current.TenantId, Aborted), Current.TenantId);

    private async Task OnSlugChangedAsync(string? value)
    {
        form.Slug = TenantRules.Normalise(value);
        // Only the slug is checked as it is typed (availability included); the rest when the form is sent.
        var checkedErrors = await Tenants.ValidateAsync(form.Request(), Aborted);
        form.Errors = new FieldErrors().AddIf("slug", checkedErrors.For("slug"));
    }

    private async Task CreateAsync()
    {
        var result = await Tenants.CreateAsync(form.Request(), User.GetUserId()!.Value, User.GetUsername() ?? "", Aborted);
        form.Errors = result.Errors;
        if (!result.Succeeded) return;
        Snackbar.Add($"{result.Value!.Name} is created at {result.Value.Domain}.", Severity.Success);
        form.Clear();
        await LoadTreeAsync();
    }
}
