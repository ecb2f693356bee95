using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// A platform admin's visit to a tenant, in Chromium against the real Portal: the page is resolved by
/// the prerendering request and again by the interactive circuit, and the admin moves on inside it,
/// yet the tenant's audit trail shows one access. The tenant is one of the test's own, owned by a user
/// nobody signs in as, so the shared stack's other tests see nothing of it.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PlatformAdminVisitTests
{
    private static readonly PageWaitForURLOptions InCircuit = new() { WaitUntil = WaitUntilState.Commit };

    [Fact]
    public async Task A_platform_admin_visit_to_a_tenant_is_audited_once()
    {
        var stack = await PortalStack.GetAsync();
        var slug = "visit" + Guid.NewGuid().ToString("N")[..10];
        var tenantId = await CreateTenantAsync(stack.ConnectionString, slug);

        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Admin, $"/t/{slug}");
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByRole(AriaRole.Link, new() { Name = "Members", Exact = true })
            .ClickAsync();
        await page.WaitForURLAsync(new Regex($"/t/{slug}/members$"), InCircuit);
        // The members page rendered in the circuit: every resolution of this visit has happened.
        await Assertions.Expect(page.GetByLabel("Members", new() { Exact = true })).ToBeVisibleAsync();
        await page.Context.CloseAsync();

        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        var resources = (await connection.QueryAsync<string>("""
            select details->>'resource' from audit_events where tenant_id = @tenantId and action = 'tenant.accessed_by_platform_admin'
            """, new { tenantId })).ToList();
        Assert.Equal([$"/t/{slug}"], resources);
    }

    private static async Task<Guid> CreateTenantAsync(string connectionString, string slug)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var owner = (await TestUsers.CreateAsync(connection, "owner-" + slug, subject: "owner-" + slug)).Id;
        var tenantId = await connection.ExecuteScalarAsync<Guid>("""
            insert into tenants (slug, name, domain, created_by) values (@slug, @slug, @slug || '.example.com', @owner) returning id
            """, new { slug, owner });
        await connection.ExecuteAsync("""
            insert into tenant_memberships (tenant_id, user_id, role) values (@tenantId, @owner, 'admin')
            """, new { tenantId, owner });
        return tenantId;
    }
}
