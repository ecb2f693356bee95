using Cogrion.Portal.Components.Layout;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Microsoft.AspNetCore.Components.Routing;

namespace Cogrion.Portal.Tests.Components.Layout;

/// <summary>What the navigation offers by role, which entry is current, and the account area in the header.</summary>
public sealed class NavigationAndAccountTests : PortalTestContext
{
    private static TenantContext Tenant(TenantRole role) =>
        new(new Tenant(Guid.NewGuid(), null, "acme", "Acme", "acme.cogrion.test", DateTimeOffset.UnixEpoch), role, TenantAccessSource.Member,
            Guid.NewGuid());

    private static List<string> Titles(TenantContext? tenant, bool platformAdmin) =>
        NavMenu.SectionsFor(tenant, platformAdmin).Select(s => s.Title).ToList();

    [Fact]
    public void A_tenant_admin_gets_the_tenants_audit_trail_and_its_settings()
    {
        var sections = NavMenu.SectionsFor(Tenant(TenantRole.Admin), platformAdmin: false).ToList();

        Assert.Equal(["Dashboard", "Workspaces", "Cloud accounts", "Members", "Tenants", "Audit", "Support access", "Settings"],
            sections.Select(s => s.Title));
        Assert.Equal("t/acme/audit", sections.Single(s => s.Title == "Audit").Href);
    }

    [Fact]
    public void A_viewer_gets_no_settings_and_reads_only_their_own_actions()
    {
        var sections = NavMenu.SectionsFor(Tenant(TenantRole.Viewer), platformAdmin: false).ToList();

        Assert.DoesNotContain("Settings", sections.Select(s => s.Title));
        Assert.DoesNotContain("Support access", sections.Select(s => s.Title));
        Assert.Equal("audit", sections.Single(s => s.Title == "Audit").Href);
    }

    [Fact]
    public void Only_platform_admins_get_the_consoles()
    {
        Assert.DoesNotContain("Jobs", Titles(null, platformAdmin: false));
        Assert.Equal(["Dashboard", "Tenants", "Audit", "Admin", "Agent fleet", "Support", "Jobs", "People"], Titles(null, platformAdmin: true));
    }

    [Theory]
    [InlineData("t/acme", "Dashboard", true)]
    [InlineData("t/acme/workspaces", "Dashboard", false)]
    [InlineData("t/acme/workspaces/lake", "Workspaces", true)]
    [InlineData("t/acme/workspaces-old", "Workspaces", false)]
    [InlineData("t/acme/members?tab=invitations", "Members", true)]
    public void The_current_section_is_the_one_the_address_is_in(string path, string title, bool active)
    {
        var section = NavMenu.SectionsFor(Tenant(TenantRole.Admin), platformAdmin: false).Single(s => s.Title == title);

        Assert.Equal(active, NavMenu.IsActive(section, path));
    }

    [Fact]
    public void The_platform_admin_entry_is_not_current_on_its_consoles()
    {
        var admin = NavMenu.SectionsFor(null, platformAdmin: true).Single(s => s.Title == "Admin");

        Assert.Equal(NavLinkMatch.All, admin.Match);
        Assert.False(NavMenu.IsActive(admin, "admin/jobs"));
    }

    [Fact]
    public void The_account_area_shows_the_name_and_the_meaningful_roles_and_signs_out_with_a_form_post()
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("dana");
        auth.SetRoles("platform-admin", "offline_access", "default-roles-cogrion", "uma_authorization");

        var cut = Render<HeaderUser>();

        var region = cut.Find("section[aria-label='Your account']");
        Assert.Equal(["platform-admin"], cut.FindAll(".portal-chip").Select(c => c.TextContent));
        Assert.Equal("post", cut.Find("form").GetAttribute("method"));
        Assert.Equal("Sign out", cut.Find("button[type=submit]").TextContent.Trim());
        Assert.Contains("dana", region.TextContent);
    }

    [Fact]
    public void Nobody_signed_in_sees_no_account_area()
    {
        AddAuthorization().SetNotAuthorized();

        var cut = Render<HeaderUser>();

        Assert.Empty(cut.FindAll("section"));
    }
}
