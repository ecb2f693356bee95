using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using Npgsql;
using Cogrion.Portal.Tests.Infrastructure;

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
        await dave.GetByTestId("onboarding-name").FillAsync("Dave's Lakes");
        await dave.GetByTestId("onboarding-next").ClickAsync();
        await dave.GetByTestId("onboarding-slug").FillAsync("davelakes");
        await Assertions.Expect(dave.GetByTestId("slug-available")).ToBeVisibleAsync();
        await dave.GetByTestId("onboarding-next").ClickAsync();
        await dave.GetByTestId("onboarding-create").ClickAsync();
        // The cloud account step: the sandbox is connected here, and a job verifies it (simulated).
        await dave.GetByTestId("onboarding-sandbox").ClickAsync();
        await Assertions.Expect(dave.GetByTestId("onboarding-create-workspace")).ToBeVisibleAsync();
        await Eventually.ValueAsync(
            async () => await (await dave.Context.APIRequest.GetAsync("/api/v1/tenants/davelakes/cloud-accounts")).TextAsync(),
            body => body.Contains("\"status\":\"verified\"", StringComparison.Ordinal), "the sandbox account to be verified");

        // Another workspace, through the API, so the dashboard has company.
        var other = await dave.Context.APIRequest.PostAsync("/api/v1/tenants/davelakes/workspaces", new()
        {
            DataObject = new
            {
                cloudAccountId = await AccountIdAsync(), region = "sandbox-local-1", name = "warehouse", networkCidr = "10.40.0.0/16", kubernetesVersion = "1.32",
                nodePools = new[] { new { name = "default", instanceType = "m6i.large", minSize = 1, maxSize = 3 } }, approvalMode = "automatic",
            },
        });
        Assert.Equal(201, other.Status);

        // The wizard, from the onboarding step.
        await dave.GetByTestId("onboarding-create-workspace").ClickAsync();
        await dave.WaitForURLAsync(new Regex("/t/davelakes/workspaces/new"), InCircuit);
        await Assertions.Expect(dave.GetByTestId("wizard-simulated")).ToBeVisibleAsync();
        await dave.GetByTestId("wizard-next").ClickAsync();
        await Assertions.Expect(dave.GetByTestId("wizard-region")).ToBeVisibleAsync();
        await dave.GetByTestId("wizard-next").ClickAsync();
        // A bad name is refused at the field; the suggested range avoids the other workspace's.
        await dave.GetByTestId("wizard-name").FillAsync("Lake!");
        await dave.GetByTestId("wizard-next").ClickAsync();
        await Assertions.Expect(dave.GetByTestId("wizard-name-error")).ToContainTextAsync("Lowercase letters");
        await Assertions.Expect(dave.GetByTestId("wizard-cidr")).ToHaveValueAsync("10.41.0.0/16");
        await dave.GetByTestId("wizard-name").FillAsync("lake");
        await Assertions.Expect(dave.GetByTestId("wizard-domain")).ToHaveTextAsync("lake.davelakes." + TestSettings.BaseDomain);
        await dave.GetByTestId("wizard-next").ClickAsync();
        await Assertions.Expect(dave.GetByTestId("wizard-pool-0")).ToBeVisibleAsync();
        await dave.GetByTestId("wizard-next").ClickAsync();
        await Assertions.Expect(dave.GetByTestId("wizard-database")).ToBeVisibleAsync();
        await dave.GetByTestId("wizard-next").ClickAsync();
        var review = dave.GetByTestId("wizard-review");
        await Assertions.Expect(review).ToContainTextAsync("\"workspace_name\": \"lake\"");
        await Assertions.Expect(review).ToContainTextAsync("\"network_cidr\": \"10.41.0.0/16\"");
        await Assertions.Expect(review).Not.ToContainTextAsync("agent_bootstrap_token");
        await Assertions.Expect(dave.GetByTestId("wizard-state-backend")).ToContainTextAsync("sandbox simulator");
        await dave.GetByTestId("wizard-create").ClickAsync();

        // The workspace page: the plan's log streams in, then the plan waits for approval.
        await dave.WaitForURLAsync(new Regex("/t/davelakes/workspaces/lake$"), InCircuit);
        await Assertions.Expect(dave.GetByTestId("run-log")).ToContainTextAsync("Plan:", new() { Timeout = 30_000 });
        await Assertions.Expect(dave.GetByTestId("workspace-status")).ToHaveTextAsync("awaiting approval", new() { Timeout = 30_000 });
        await Assertions.Expect(dave.GetByTestId("run-plan")).ToContainTextAsync("module.stack.");
        await dave.GetByTestId("run-approve").ClickAsync();
        await Assertions.Expect(dave.GetByTestId("run-log")).ToContainTextAsync("completed", new() { Timeout = 30_000 });
        await Assertions.Expect(dave.GetByTestId("run-log")).ToContainTextAsync("Cluster Agent", new() { Timeout = 30_000 });
        await Assertions.Expect(dave.GetByTestId("workspace-status")).ToHaveTextAsync("ready", new() { Timeout = 60_000 });
        await Assertions.Expect(dave.GetByTestId("workspace-outputs")).ToContainTextAsync("cluster_name");
        await Assertions.Expect(dave.GetByTestId("run-stage-timings")).ToContainTextAsync("Apply");
        // Its agent, as the tenant sees it: status, version, inventory and command history.
        await Assertions.Expect(dave.GetByTestId("workspace-agent")).ToContainTextAsync("Registered (UTC)");
        await Assertions.Expect(dave.GetByTestId("workspace-agent").GetByTestId("agent-commands")).ToBeVisibleAsync();
        await Assertions.Expect(dave.GetByTestId("no-agent")).ToHaveCountAsync(0);

        // The dashboard: both workspaces, ready, side by side.
        await dave.GotoAsync("/t/davelakes");
        await PortalStack.WaitUntilInteractiveAsync(dave);
        await Assertions.Expect(dave.GetByTestId("workspace-status-lake")).ToHaveTextAsync("ready");
        await Assertions.Expect(dave.GetByTestId("workspace-status-warehouse")).ToHaveTextAsync("ready", new() { Timeout = 60_000 });
        await Assertions.Expect(dave.GetByTestId("workspace-agent-lake")).ToHaveTextAsync(new Regex("^(registered|healthy)$"));

        // Destroy, behind the typed name.
        await dave.GotoAsync("/t/davelakes/workspaces/lake");
        await PortalStack.WaitUntilInteractiveAsync(dave);
        await dave.GetByTestId("workspace-destroy").ClickAsync();
        await dave.GetByTestId("destroy-confirmation").FillAsync("lak");
        await Assertions.Expect(dave.GetByTestId("destroy-confirm")).ToBeDisabledAsync();
        await dave.GetByTestId("destroy-confirmation").FillAsync("lake");
        await Assertions.Expect(dave.GetByTestId("destroy-confirm")).ToBeEnabledAsync();
        await dave.GetByTestId("destroy-confirm").ClickAsync();
        // Manual approval covers destroys too: the operator reads what will go.
        await Assertions.Expect(dave.GetByTestId("workspace-status")).ToHaveTextAsync("awaiting approval", new() { Timeout = 30_000 });
        await Assertions.Expect(dave.GetByTestId("run-plan")).ToContainTextAsync("to destroy");
        await dave.GetByTestId("run-approve").ClickAsync();
        await Assertions.Expect(dave.GetByTestId("workspace-status")).ToHaveTextAsync("destroyed", new() { Timeout = 60_000 });

        // The account keeps the state backend its first run made: workspaces come and go, the bucket stays.
        await dave.GotoAsync($"/t/davelakes/cloud-accounts/{await AccountIdAsync()}");
        await PortalStack.WaitUntilInteractiveAsync(dave);
        await Assertions.Expect(dave.GetByTestId("state-backends")).ToContainTextAsync("sandbox-local-1");
        await Assertions.Expect(dave.GetByTestId("state-backends")).ToContainTextAsync("ready");
        await dave.Context.CloseAsync();
    }

    private async Task<Guid> AccountIdAsync()
    {
        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        return await connection.ExecuteScalarAsync<Guid>("select a.id from cloud_accounts a join tenants t on t.id = a.tenant_id where t.slug = 'davelakes'");
    }
}
