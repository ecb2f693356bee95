using Microsoft.AspNetCore.Components;
using Radzen;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Tenants;

public partial class ChildTenantsPage
{
    [Inject] private TenantStore Tenants { get; set; } = default!;
    [Inject] private NotificationService Notifications { get; set; } = default!;

    /// <summary>A subtree node for the tree view, built from the flat, parent-first list the store returns.</summary>
    private sealed record TreeNode(string Slug, string Name, string Domain, List<TreeNode> Children);

    private IReadOnlyList<TreeNode> roots = [];
    private string? childName;
    private string? childSlug;
    private string? childDomain;
    private FieldErrors errors = new();

    private string DefaultDomain => TenantRules.DefaultDomain(string.IsNullOrEmpty(childSlug) ? "<slug>" : childSlug, Current.Tenant.Domain);

    protected override Task OnTenantReadyAsync() => LoadTreeAsync();

    private async Task LoadTreeAsync()
    {
        var nodes = await Tenants.GetSubtreeAsync(Current.TenantId, CancellationToken.None);
        var byId = nodes.ToDictionary(n => n.Id, n => new TreeNode(n.Slug, n.Name, n.Domain, []));
        foreach (var node in nodes.Where(n => n.Depth > 0))
            byId[node.ParentId!.Value].Children.Add(byId[node.Id]);
        roots = [byId[Current.TenantId]];
    }

    private async Task OnSlugChangedAsync(string? value)
    {
        childSlug = TenantRules.Normalise(value);
        var checkedErrors = await Tenants.ValidateAsync(Request(), CancellationToken.None);
        errors = new FieldErrors().AddIf("slug", checkedErrors.For("slug"));
    }

    private NewTenant Request() => new(childName, childSlug, string.IsNullOrWhiteSpace(childDomain) ? null : childDomain, Current.TenantId);

    private async Task CreateAsync()
    {
        var result = await Tenants.CreateAsync(Request(), User.GetUserId()!.Value, User.GetUsername() ?? "", CancellationToken.None);
        errors = result.Errors;
        if (!result.Succeeded) return;
        Notifications.Notify(NotificationSeverity.Success, $"{result.Value!.Name} is created at {result.Value.Domain}.");
        childName = childSlug = childDomain = null;
        await LoadTreeAsync();
    }
}
