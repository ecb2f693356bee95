using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Workspaces;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>
/// The workspaces proof, in Chromium against the real Portal process, job engine, runner and
/// tofu-sandbox: a new tenant goes through the wizard on the sandbox, watches the live log, approves
/// the plan, sees the workspace ready on the dashboard next to another, and destroys it with the typed
/// confirmation. Its own stack: it creates a tenant and runs provisioning jobs.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class WorkspaceLifecycleTests : IAsyncLifetime
{
    private static readonly PageWaitForURLOptions InCircuit = new() { WaitUntil = WaitUntilState.Commit };
    private readonly string root = Directory.CreateTempSubdirectory("cogrion-ws-browser-").FullName;
    private PortalStack stack = null!;

    public async Task InitializeAsync() => stack = await PortalStack.StartIsolatedAsync(new Dictionary<string, string?>
    {
        // Fast enough for a test, slow enough that the log visibly streams.
        ["OpenTofu:SandboxSpeed"] = "2000",
        ["OpenTofu:WorkRoot"] = Path.Combine(root, "work"),
        ["Provisioning:SandboxStateRoot"] = Path.Combine(root, "state"),
        ["Provisioning:DriftInterval"] = "00:00:00",
        // Sandbox workspaces become ready when a real agent (simulated cluster) has registered.
        ["Provisioning:SandboxAgentExecutable"] = AgentProcess.Binary,
        ["Provisioning:PortalUrl"] = "{baseUrl}",
    });

    public async Task DisposeAsync()
    {
        await stack.DisposeAsync();
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_new_tenant_creates_a_sandbox_workspace_with_the_wizard_approves_its_plan_sees_it_ready_and_destroys_it()
    {
        var dave = await stack.NewPageAsync();
        await stack.SignInAsync(dave, DevIdentityProvider.Dave);
        await dave.WaitForURLAsync(new Regex("/onboarding$"));
        await dave.GetByLabel("Organisation name").FillAsync("Dave's Lakes");
        await dave.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await dave.GetByLabel("Slug", new() { Exact = true }).FillAsync("davelakes");
        await Assertions.Expect(dave.GetByRole(AriaRole.Status).Filter(new() { HasText = "'davelakes' is available." })).ToBeVisibleAsync();
        await dave.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await dave.GetByRole(AriaRole.Button, new() { Name = "Create organisation" }).ClickAsync();
        // The cloud account step: the sandbox is connected here, and a job verifies it (simulated).
        await dave.GetByRole(AriaRole.Button, new() { Name = "Use the sandbox (simulated)" }).ClickAsync();
        var createFirst = dave.GetByRole(AriaRole.Link, new() { Name = "Create your first workspace" });
        await Assertions.Expect(createFirst).ToBeVisibleAsync();
        await Eventually.ValueAsync(
            async () => await (await dave.Context.APIRequest.GetAsync("/api/v1/tenants/davelakes/cloud-accounts")).TextAsync(),
            body => body.Contains("\"status\":\"verified\"", StringComparison.Ordinal), "the sandbox account to be verified");

        // Another workspace, through the API, so the dashboard has company.
        var other = await dave.Context.APIRequest.PostAsync("/api/v1/tenants/davelakes/workspaces", new()
        {
            DataObject = new
            {
                cloudAccountId = await AccountIdAsync(),
                region = "sandbox-local-1",
                name = "warehouse",
                networkCidr = "10.40.0.0/16",
                kubernetesVersion = KubernetesTestVersions.Newest(),
                nodePools = new[] { new { name = "default", instanceType = "m6i.large", minSize = 1, maxSize = 3 } },
                approvalMode = "automatic",
            },
        });
        Assert.Equal(201, other.Status);

        // The wizard, from the onboarding step.
        await createFirst.ClickAsync();
        await dave.WaitForURLAsync(new Regex("/t/davelakes/workspaces/new"), InCircuit);
        var next = dave.GetByRole(AriaRole.Button, new() { Name = "Next" });
        await Assertions.Expect(dave.GetByText("Sandbox: every resource is simulated")).ToBeVisibleAsync();
        await next.ClickAsync();
        await Assertions.Expect(dave.GetByRole(AriaRole.Combobox, new() { Name = "Region" })).ToBeVisibleAsync();
        await next.ClickAsync();
        // A bad name is refused at the field; the suggested range avoids the other workspace's.
        var name = dave.GetByLabel("Name", new() { Exact = true });
        await name.FillAsync("Lake!");
        await next.ClickAsync();
        await Assertions.Expect(name).ToHaveAccessibleDescriptionAsync(new Regex("Lowercase letters"));
        await Assertions.Expect(dave.GetByLabel("Network range")).ToHaveValueAsync("10.41.0.0/16");
        await name.FillAsync("lake");
        await Assertions.Expect(dave.GetByLabel("Workspace domain")).ToHaveTextAsync("lake.davelakes." + TestSettings.BaseDomain);
        // Only versions in standard support on the sandbox (it follows EKS) today, the newest chosen.
        await Assertions.Expect(dave.GetByRole(AriaRole.Combobox, new() { Name = "Kubernetes version" }))
            .ToContainTextAsync(KubernetesTestVersions.Newest());
        await Assertions.Expect(dave.GetByText("The versions in standard support on the sandbox (which follows Amazon EKS) today"))
            .ToBeVisibleAsync();
        await next.ClickAsync();
        await Assertions.Expect(dave.GetByRole(AriaRole.Group, new() { Name = "Node pool 1" })).ToBeVisibleAsync();
        await next.ClickAsync();
        await Assertions.Expect(dave.GetByRole(AriaRole.Checkbox, new() { Name = "Create a managed database" })).ToBeVisibleAsync();
        await next.ClickAsync();
        var review = dave.GetByLabel("Run inputs");
        await Assertions.Expect(review).ToContainTextAsync("\"workspace_name\": \"lake\"");
        await Assertions.Expect(review).ToContainTextAsync("\"network_cidr\": \"10.41.0.0/16\"");
        await Assertions.Expect(review).Not.ToContainTextAsync("agent_bootstrap_token");
        await Assertions.Expect(dave.GetByLabel("Where the state lives")).ToContainTextAsync("sandbox simulator");
        await dave.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();

        // The workspace page: the plan's log streams in, then the plan waits for approval.
        await dave.WaitForURLAsync(new Regex("/t/davelakes/workspaces/lake$"), InCircuit);
        var runLog = dave.GetByRole(AriaRole.Log, new() { Name = "Run log" });
        var status = dave.GetByRole(AriaRole.Status, new() { Name = "Workspace status" });
        await Assertions.Expect(runLog).ToContainTextAsync("Plan:", new() { Timeout = 30_000 });
        await Assertions.Expect(status).ToHaveTextAsync("awaiting approval", new() { Timeout = 30_000 });
        await Assertions.Expect(dave.GetByRole(AriaRole.Region, new() { Name = "Plan" })).ToContainTextAsync("module.stack.");
        await dave.GetByRole(AriaRole.Button, new() { Name = "Approve and apply" }).ClickAsync();
        await Assertions.Expect(runLog).ToContainTextAsync("completed", new() { Timeout = 30_000 });
        await Assertions.Expect(runLog).ToContainTextAsync("Cluster Agent", new() { Timeout = 30_000 });
        await Assertions.Expect(status).ToHaveTextAsync("ready", new() { Timeout = 60_000 });
        await Assertions.Expect(dave.GetByLabel("Outputs", new() { Exact = true })).ToContainTextAsync("cluster_name");
        await Assertions.Expect(dave.GetByRole(AriaRole.Region, new() { Name = "Stage timings" })).ToContainTextAsync("Apply");
        // Its agent, as the tenant sees it: status, version, inventory and command history.
        var agent = dave.GetByRole(AriaRole.Region, new() { Name = "Cluster Agent" });
        await Assertions.Expect(agent).ToContainTextAsync("Registered (UTC)");
        await Assertions.Expect(agent.GetByLabel("Agent command history")).ToBeVisibleAsync();
        await Assertions.Expect(agent).Not.ToContainTextAsync("No agent has registered");

        // The dashboard: both workspaces, ready, side by side.
        await dave.GotoAsync("/t/davelakes");
        await PortalStack.WaitUntilInteractiveAsync(dave);
        await Assertions.Expect(dave.GetByRole(AriaRole.Status, new() { Name = "Status of lake" })).ToHaveTextAsync("ready");
        await Assertions.Expect(dave.GetByRole(AriaRole.Status, new() { Name = "Status of warehouse" }))
            .ToHaveTextAsync("ready", new() { Timeout = 60_000 });
        await Assertions.Expect(dave.GetByLabel("Agent of lake")).ToHaveTextAsync(new Regex("^(registered|healthy)$"));

        // Destroy, behind the typed name.
        await dave.GotoAsync("/t/davelakes/workspaces/lake");
        await PortalStack.WaitUntilInteractiveAsync(dave);
        await dave.GetByRole(AriaRole.Button, new() { Name = "Destroy", Exact = true }).ClickAsync();
        var dialog = dave.GetByRole(AriaRole.Dialog, new() { Name = "Destroy lake?" });
        var typed = dialog.GetByLabel("Type lake to confirm");
        var confirm = dialog.GetByRole(AriaRole.Button, new() { Name = "Destroy workspace" });
        await typed.FillAsync("lak");
        await Assertions.Expect(confirm).ToBeDisabledAsync();
        await typed.FillAsync("lake");
        await Assertions.Expect(confirm).ToBeEnabledAsync();
        await confirm.ClickAsync();
        // Manual approval covers destroys too: the operator reads what will go.
        await Assertions.Expect(status).ToHaveTextAsync("awaiting approval", new() { Timeout = 30_000 });
        await Assertions.Expect(dave.GetByRole(AriaRole.Region, new() { Name = "Plan" })).ToContainTextAsync("to destroy");
        await dave.GetByRole(AriaRole.Button, new() { Name = "Approve and apply" }).ClickAsync();
        await Assertions.Expect(status).ToHaveTextAsync("destroyed", new() { Timeout = 60_000 });

        // The account keeps the state backend its first run made: workspaces come and go, the bucket stays.
        await dave.GotoAsync($"/t/davelakes/cloud-accounts/{await AccountIdAsync()}");
        await PortalStack.WaitUntilInteractiveAsync(dave);
        var backends = dave.GetByRole(AriaRole.Region, new() { Name = "State backends" });
        await Assertions.Expect(backends).ToContainTextAsync("sandbox-local-1");
        await Assertions.Expect(backends).ToContainTextAsync("ready");
        await dave.Context.CloseAsync();
    }

    private async Task<Guid> AccountIdAsync()
    {
        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        return await connection.ExecuteScalarAsync<Guid>("select a.id from cloud_accounts a join tenants t on t.id = a.tenant_id where t.slug = " +
            "'davelakes'");
    }
}
