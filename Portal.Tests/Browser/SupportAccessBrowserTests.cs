using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Support;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// Support access in Chromium against the real Portal process and the real agent binary: a platform admin requests
/// access; a tenant admin registers a passkey and approves with it, both through Chromium's virtual authenticator
/// (the DevTools Protocol's WebAuthn domain, over Playwright's CDP session); the agent verifies the signature; the
/// platform admin reads the workspace's pods and events; the tenant's timeline shows the action. Its own stack on
/// http://localhost (a WebAuthn relying party id is a domain, never an IP address).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SupportAccessBrowserTests : IAsyncLifetime
{
    private readonly BrowserAgentWorld world = new() { OnLocalhost = true };

    public Task InitializeAsync() => world.InitializeAsync();

    public Task DisposeAsync() => world.DisposeAsync();

    [Fact]
    public async Task A_platform_admin_requests_a_tenant_admin_approves_with_a_passkey_and_the_admin_reads_pod_status()
    {
        var (erin, stack, tenant) = (world.Page, world.Stack, world.TenantId);
        await world.EnsureAppNamespaceAsync(SupportScenario.Namespace);
        await world.Agent.Admin.ApplyAsync(SupportScenario.CrashingPod(), default);

        // The platform admin asks for status access to vault/lake.
        var admin = await stack.NewPageAsync();
        await stack.SignInAsync(admin, DevIdentityProvider.Admin);
        await admin.GotoAsync("/admin/support");
        await PortalStack.WaitUntilInteractiveAsync(admin);
        await PortalStack.ChooseAsync(admin, admin.GetByLabel("Workspace"), "vault / lake");
        // The choice is the server's once the select shows it: text typed before that render arrived was lost under load.
        await Assertions.Expect(admin.GetByLabel("Workspace")).ToHaveTextAsync("vault / lake");
        var reason = admin.GetByLabel("Reason");
        await reason.FillAsync("Customer reports crash-looping web pods");
        await admin.GetByLabel("Ticket (optional)").FillAsync("INC-7");
        await Assertions.Expect(reason).ToHaveValueAsync("Customer reports crash-looping web pods");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Request access" }).ClickAsync();
        var mine = admin.GetByRole(AriaRole.Row, new() { Name = "Request for vault/lake" });
        await Assertions.Expect(mine.GetByLabel("Request status")).ToHaveTextAsync("pending");

        // The tenant admin registers a passkey with Chromium's virtual authenticator, then approves with it.
        var cdp = await erin.Context.NewCDPSessionAsync(erin);
        await cdp.SendAsync("WebAuthn.enable");
        await cdp.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2",
                ["transport"] = "internal",
                ["hasResidentKey"] = true,
                ["hasUserVerification"] = true,
                ["isUserVerified"] = true,
            },
        });
        var response = await erin.GotoAsync("/t/vault/support");
        Assert.Contains("script-src 'self'", (await response!.AllHeadersAsync())["content-security-policy"], StringComparison.Ordinal);
        await PortalStack.WaitUntilInteractiveAsync(erin);
        await erin.GetByLabel("Passkey name").FillAsync("Erin's laptop");
        await erin.GetByRole(AriaRole.Button, new() { Name = "Register a passkey" }).ClickAsync();
        await Assertions.Expect(erin.GetByLabel("Support notice")).ToContainTextAsync("registered");
        await Assertions.Expect(erin.GetByRole(AriaRole.Row, new() { Name = "Passkey Erin's laptop" })).ToContainTextAsync("version 1");

        var pending = erin.GetByRole(AriaRole.Row, new() { Name = "Request from admin" });
        await Assertions.Expect(pending).ToContainTextAsync("Customer reports crash-looping web pods");
        await pending.GetByRole(AriaRole.Button, new() { Name = "Approve with passkey" }).ClickAsync();
        await Assertions.Expect(erin.GetByLabel("Support notice")).ToContainTextAsync("Approved");
        var grant = erin.GetByRole(AriaRole.Row, new() { Name = "Grant to admin" });
        await Assertions.Expect(grant.GetByLabel("Agent verdict")).ToHaveTextAsync("verified and recorded", new() { Timeout = 60_000 });

        // The platform admin reads pod status and events under the grant.
        await mine.GetByRole(AriaRole.Link, new() { Name = "Open session" }).ClickAsync();
        await PortalStack.WaitUntilInteractiveAsync(admin);
        await Assertions.Expect(admin.GetByLabel("Grant status")).ToHaveTextAsync("active", new() { Timeout = 30_000 });
        await admin.GetByRole(AriaRole.Button, new() { Name = "List workloads, pods and events" }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Row, new() { Name = "Pod airflow/web-0" })).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(admin.GetByRole(AriaRole.Row, new() { Name = "Action list all app namespaces" }).First.GetByLabel("Outcome"))
            .ToHaveTextAsync("allowed");

        // The tenant sees it in the timeline; the approval, with the passkey, is in its trail.
        await Assertions.Expect(erin.GetByRole(AriaRole.Row, new() { Name = "Support action list all app namespaces" }).First.GetByLabel("Outcome"))
            .ToHaveTextAsync("allowed");
        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        var trail = (await connection.QueryAsync<string>("select action from audit_events where tenant_id = @tenant", new { tenant })).ToList();
        foreach (var step in new[] { "support.requested", "support.passkey_registered", "support.approved", "support.grant_recorded",
            "support.action_allowed" })
            Assert.Contains(step, trail);
        Assert.Contains(CommandTypes.SupportGrant, await connection.QueryAsync<string>(
            "select type from agent_commands where tenant_id = @tenant and status = 'succeeded'", new { tenant }));
    }
}
