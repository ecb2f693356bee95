using Cogrion.Portal.Features.Tenants.Access;
using Microsoft.AspNetCore.Components.Routing;
using MudBlazor;

namespace Cogrion.Portal.Components.Layout;

/// <summary>The navigation: the current tenant's sections (admins see audit and settings), and the platform admins' consoles.</summary>
public partial class NavMenu
{
    /// <summary>One entry of the menu. <see cref="Match"/> says whether sub-pages light it up too.</summary>
    public sealed record Section(string Title, string Href, string Icon, NavLinkMatch Match = NavLinkMatch.Prefix);

    private bool platformAdmin;

    protected override async Task OnUserKnownAsync() => platformAdmin = await TenantAccess.IsPlatformAdminAsync(User);

    private IEnumerable<Section> Sections => SectionsFor(CurrentTenant, platformAdmin);

    /// <summary>What the menu lists for someone in <paramref name="tenant"/> (null outside a tenant).</summary>
    public static IEnumerable<Section> SectionsFor(TenantContext? tenant, bool platformAdmin)
    {
        if (tenant is not null)
        {
            var root = $"t/{tenant.Slug}";
            yield return new("Dashboard", root, Icons.Material.Outlined.SpaceDashboard, NavLinkMatch.All);
            yield return new("Workspaces", $"{root}/workspaces", Icons.Material.Outlined.Cloud);
            yield return new("Cloud accounts", $"{root}/cloud-accounts", Icons.Material.Outlined.Key);
            yield return new("Members", $"{root}/members", Icons.Material.Outlined.Group);
            yield return new("Tenants", $"{root}/tenants", Icons.Material.Outlined.CorporateFare);
            // A tenant's admins read its whole trail; everyone else their own actions.
            yield return new("Audit", tenant.IsAdmin ? $"{root}/audit" : "audit", Icons.Material.Outlined.FactCheck);
            if (tenant.IsAdmin) yield return new("Support access", $"{root}/support", Icons.Material.Outlined.SupportAgent);
            if (tenant.IsAdmin) yield return new("Settings", $"{root}/settings", Icons.Material.Outlined.Settings);
        }
        else
        {
            yield return new("Dashboard", "dashboard", Icons.Material.Outlined.SpaceDashboard);
            yield return new("Tenants", "tenants", Icons.Material.Outlined.CorporateFare);
            yield return new("Audit", "audit", Icons.Material.Outlined.FactCheck);
        }
        if (platformAdmin)
        {
            yield return new("Admin", "admin", Icons.Material.Outlined.AdminPanelSettings, NavLinkMatch.All);
            yield return new("Agent fleet", "admin/agents", Icons.Material.Outlined.Hub);
            yield return new("Support", "admin/support", Icons.Material.Outlined.SupportAgent);
            yield return new("Jobs", "admin/jobs", Icons.Material.Outlined.WorkHistory);
            yield return new("People", "admin/users", Icons.Material.Outlined.ManageAccounts);
        }
    }

    private bool IsActive(Section section) => IsActive(section, Navigation.ToBaseRelativePath(Navigation.Uri));

    /// <summary>Whether <paramref name="path"/> (relative, as NavigationManager gives it) is in <paramref name="section"/>.</summary>
    public static bool IsActive(Section section, string path)
    {
        path = path.Split('?', '#')[0].TrimEnd('/');
        return section.Match == NavLinkMatch.All
            ? string.Equals(path, section.Href, StringComparison.OrdinalIgnoreCase)
            : string.Equals(path, section.Href, StringComparison.OrdinalIgnoreCase)
                || path.StartsWith(section.Href + "/", StringComparison.OrdinalIgnoreCase);
    }
}
