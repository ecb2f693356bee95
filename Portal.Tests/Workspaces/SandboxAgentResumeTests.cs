using Dapper;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Features.Workspaces.Sandbox;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// After the Portal restarts, the live sandbox workspaces get their simulated cluster's agent back,
/// with the identity it registered before and no new bootstrap token. A stand-in agent executable
/// records how it was started: what the launcher decides is the point here; the real agent's own
/// restart behaviour is covered by the agent's end-to-end tests.
/// </summary>
public sealed class SandboxAgentResumeTests : IAsyncLifetime
{
    private readonly string fakeAgent = Path.Combine(Path.GetTempPath(), $"cogrion-fake-agent-{Guid.NewGuid():N}.sh");
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(fakeAgent, """
            #!/usr/bin/env bash
            echo "token=${Agent__BootstrapToken:-none} portal=${Agent__PortalUrl}" > "$Agent__StateDirectory/started.txt"
            exec sleep 300
            """);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(fakeAgent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        world = await WorkspaceWorld.StartAsync(runWorkers: false, new Dictionary<string, string?>
        {
            ["Provisioning:SandboxAgentExecutable"] = fakeAgent,
            ["Provisioning:PortalUrl"] = "http://127.0.0.1:9",
        });
    }

    public async Task DisposeAsync()
    {
        await world.DisposeAsync(); // stops the launcher, which stops its agents
        File.Delete(fakeAgent);
    }

    private async Task<Guid> WorkspaceAsync(Guid tenantId, Guid accountId, string name, string status, bool registeredBefore)
    {
        var id = Guid.NewGuid();
        await using var connection = await world.OpenAsync();
        await connection.ExecuteAsync("""
            insert into workspaces (id, tenant_id, name, cloud_account_id, provider, region, network_cidr, kubernetes_version,
                                    node_pools, use_karpenter, approval_mode, status, created_by)
            values (@id, @tenantId, @name, @accountId, 'sandbox', 'sandbox-local-1', @cidr::cidr, '1.32', '[]'::jsonb, false,
                    'automatic', @status::workspace_status, 'test')
            """, new { id, tenantId, name, accountId, cidr = $"10.{Random.Shared.Next(1, 250)}.0.0/16", status });
        var agentDirectory = Path.Combine(world.StateRoot, id.ToString("n"), "agent");
        Directory.CreateDirectory(agentDirectory);
        if (registeredBefore) await File.WriteAllTextAsync(Path.Combine(agentDirectory, "state.json"), "{}");
        return id;
    }

    [Fact]
    public async Task Live_sandbox_workspaces_whose_agent_registered_before_get_it_back_without_a_new_token()
    {
        var tenant = await world.NewTenantAsync("resume");
        var account = await world.NewAccountAsync(tenant);
        var ready = await WorkspaceAsync(tenant, account, "lake", "ready", registeredBefore: true);
        var drifted = await WorkspaceAsync(tenant, account, "drifty", "drifted", registeredBefore: true);
        var neverRegistered = await WorkspaceAsync(tenant, account, "fresh", "ready", registeredBefore: false);
        var destroyed = await WorkspaceAsync(tenant, account, "gone", "destroyed", registeredBefore: true);
        var launcher = world.Get<SandboxAgentLauncher>();

        await launcher.ResumeAsync(CancellationToken.None);

        Assert.Equal(new[] { ready, drifted }.Order(), launcher.Running.Order());
        var started = await Eventually.ValueAsync(
            async () => File.Exists(Path.Combine(world.StateRoot, ready.ToString("n"), "agent", "started.txt"))
                ? await File.ReadAllTextAsync(Path.Combine(world.StateRoot, ready.ToString("n"), "agent", "started.txt"))
                : "",
            text => text.Length > 0, "the resumed agent to start");
        Assert.Contains("token=none", started);
        Assert.Empty(world.Tokens);
        Assert.DoesNotContain(neverRegistered, launcher.Running);
        Assert.DoesNotContain(destroyed, launcher.Running);
    }
}
