using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Agents.Versions;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// The real path, in the sandbox: a sandbox workspace's run applies terraform/modules/cluster-agent's
/// own objects to the workspace's simulated cluster, whose kubelet starts the real agent binary from
/// the Deployment; the agent reads its token from the mounted Secret, reaches the API server with its
/// service account's token under the install's RBAC, and registers with the Portal over HTTP. So the
/// workspace is ready only if the install is right: change a name the agent relies on, in a copy of
/// the module, and the same flow fails.
/// </summary>
public sealed class SandboxAgentInstallTests
{
    [Fact]
    public async Task A_sandbox_workspaces_agent_starts_from_the_modules_own_objects_and_registers()
    {
        await using var world = await SandboxInstallWorld.StartAsync(SandboxInstallWorld.RepositoryModules);

        var workspace = await world.CreateWorkspaceAsync("lake");
        await world.WaitForStatusAsync(workspace, WorkspaceStatus.Ready);

        var agent = Assert.Single(await world.Portal.Get<AgentRegistry>().ListForWorkspaceAsync(world.TenantId, workspace, CancellationToken.None));
        Assert.Equal("active", agent.Status);
        Assert.Equal(AgentRelease.PortalVersion, agent.AgentVersion);
        // Started by the cluster from the Deployment (a pod it owns), keeping its identity in the state Secret.
        var cluster = world.ClusterObjects(workspace);
        Assert.Contains(cluster, o => o["kind"]?.GetValue<string>() == "Pod"
            && o["metadata"]?["ownerReferences"]?[0]?["name"]?.GetValue<string>() == AgentInstall.Deployment
            && o["status"]?["podIP"] is not null);
        // Flux's source and helm controllers came with the same apply (terraform/modules/flux), CRDs included, and are available.
        Assert.Contains(cluster, o => o["kind"]?.GetValue<string>() == "Namespace" && o["metadata"]?["name"]?.GetValue<string>() == "flux-system");
        Assert.Contains(cluster, o => o["kind"]?.GetValue<string>() == "CustomResourceDefinition"
            && o["metadata"]?["name"]?.GetValue<string>() == "helmreleases.helm.toolkit.fluxcd.io");
        var controllers = await Eventually.ValueAsync(() => Task.FromResult(world.ClusterObjects(workspace)
                .Where(o => o["kind"]?.GetValue<string>() == "Deployment" && o["metadata"]?["namespace"]?.GetValue<string>() == "flux-system")
                .ToList()),
            list => list.Count == 2 && list.All(d => d["status"]?["availableReplicas"]?.GetValue<long>() >= 1),
            "Flux's controllers to be available", TimeSpan.FromSeconds(60));
        Assert.Contains(controllers, d => d["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>()
            .StartsWith("ghcr.io/fluxcd/helm-controller:v", StringComparison.Ordinal));
        // Its rights in app namespaces come from the workload role it binds there.
        Assert.Equal("succeeded", await world.EnsureNamespaceAsync(workspace, "tenant-airflow"));
        Assert.Contains(world.ClusterObjects(workspace), o => o["kind"]?.GetValue<string>() == "Secret"
            && o["metadata"]?["name"]?.GetValue<string>() == AgentInstall.StateSecret);
    }

    /// <summary>The three names that once drifted apart between the module, the manifest and the agent.</summary>
    public static TheoryData<string, string, string> Mutations => new()
    {
        { "the bootstrap token file's setting", $"- name: {AgentInstall.BootstrapTokenFileVariable}", "- name: Agent__BootstrapTokenPath" },
        { "the state Secret's name", $"resourceNames: [\"{AgentInstall.StateSecret}\"]", "resourceNames: [\"cogrion-agent-identity\"]" },
        { "the workload role's name", AgentInstall.WorkloadClusterRole, "cogrion-agent-app-manager" },
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public async Task The_same_flow_fails_when_the_module_changes_a_name_the_agent_relies_on(string what, string original, string mutated)
    {
        var modules = SandboxInstallWorld.CopyOfModules();
        var template = Path.Combine(modules, "modules", "cluster-agent", InstallTemplate.FileName);
        var text = await File.ReadAllTextAsync(template);
        Assert.Contains(original, text);
        await File.WriteAllTextAsync(template, text.Replace(original, mutated, StringComparison.Ordinal));
        await using var world = await SandboxInstallWorld.StartAsync(modules, registrationTimeout: TimeSpan.FromSeconds(45));

        var workspace = await world.CreateWorkspaceAsync("lake");
        var ended = await world.WaitForStatusAsync(workspace, WorkspaceStatus.Ready, WorkspaceStatus.Failed);

        // Either the agent never registers (the run fails), or it registers and cannot act in an app namespace.
        var broken = ended.Status == WorkspaceStatus.Failed || await world.EnsureNamespaceAsync(workspace, "tenant-airflow") != "succeeded";
        Assert.True(broken, $"Changing {what} in the module should break the agent's install, yet the workspace became ready and the agent worked.");
    }

    [Fact]
    public async Task An_agent_upgraded_by_command_runs_the_new_version_and_one_that_never_becomes_ready_is_rolled_back()
    {
        var next = await AgentBuilds.VersionAsync("0.2.0");
        var broken = Path.Combine(Path.GetTempPath(), $"cogrion-broken-agent-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(broken, "#!/bin/sh\necho 'this build cannot start' >&2\nexit 3\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(broken, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var image = (string version) => $"{AgentInstall.ImageRepository}:{version}";
        var state = Directory.CreateTempSubdirectory("cogrion-upgrade-").FullName;

        // 0.1.0, this build: the workspace is created and its agent registers.
        Guid workspace, tenant;
        string baseUrl, database;
        await using (var first = await SandboxInstallWorld.StartAsync(SandboxInstallWorld.RepositoryModules, stateRoot: state))
        {
            workspace = await first.CreateWorkspaceAsync("lake");
            await first.WaitForStatusAsync(workspace, WorkspaceStatus.Ready);
            Assert.Equal("succeeded", await first.EnsureNamespaceAsync(workspace, "before-upgrade"));
            (tenant, baseUrl, database) = (first.TenantId, first.Portal.BaseUrl, first.Database);
            first.KeepDatabase = true;
        }

        // The Portal now ships 0.2.0 (its registry still has 0.1.0): the fleet sees the agent behind, and upgrades it.
        await using (var second = await SandboxInstallWorld.ResumeAsync(database, tenant, baseUrl, state, image("0.2.0"), next,
            new Dictionary<string, string> { [image(AgentRelease.PortalVersion)] = AgentProcess.Binary }))
        {
            var agent = Assert.Single(await second.Portal.Get<AgentRegistry>().ListForWorkspaceAsync(tenant, workspace, CancellationToken.None));
            var status = await second.Portal.Get<AgentVersions>().StatusAsync(agent.AgentVersion, CancellationToken.None);
            Assert.True(status.Behind);
            Assert.Equal(UpgradeRefusal.NotFound,
                (await second.Portal.Get<AgentUpgrades>().RequestAsync(Guid.NewGuid(), agent.Id, SandboxInstallWorld.Admin, CancellationToken.None))
                .Refusal);

            var upgrade = await second.Portal.Get<AgentUpgrades>().RequestAsync(tenant, agent.Id, SandboxInstallWorld.Admin, CancellationToken.None);
            Assert.True(upgrade.Accepted);
            var done = await second.CommandAsync(agent.Id, upgrade.CommandId!.Value);

            Assert.Equal("succeeded", done.Status);
            await Eventually.ValueAsync(async ()
                => (await second.Portal.Get<AgentRegistry>().GetAsync(agent.Id, CancellationToken.None))!.AgentVersion,
                version => version == "0.2.0", "the agent to report 0.2.0", TimeSpan.FromMinutes(2));
            Assert.Equal(image("0.2.0"), second.DeploymentImage(workspace));
            Assert.Equal(1, await second.CountAsync("select count(*) from audit_events where action = 'agent.upgraded'"));
        }

        // Then a 0.3.0 that cannot start: the new pod never becomes ready, the old one keeps running, and the agent rolls back.
        await using (var third = await SandboxInstallWorld.ResumeAsync(database, tenant, baseUrl, state, image("0.3.0"), broken,
            new Dictionary<string, string> { [image("0.2.0")] = next }, readyWithin: TimeSpan.FromSeconds(30)))
        {
            third.KeepDatabase = false;
            var agent = Assert.Single(await third.Portal.Get<AgentRegistry>().ListForWorkspaceAsync(tenant, workspace, CancellationToken.None));
            var upgrade = await third.Portal.Get<AgentUpgrades>().RequestAsync(tenant, agent.Id, SandboxInstallWorld.Admin, CancellationToken.None);
            var done = await third.CommandAsync(agent.Id, upgrade.CommandId!.Value);

            Assert.Equal("failed", done.Status);
            Assert.Contains("did not become ready", done.ResultMessage);
            Assert.Contains($"Rolled back to {image("0.2.0")}", done.ResultMessage);
            Assert.Equal(image("0.2.0"), third.DeploymentImage(workspace));
            Assert.Equal(1, await third.CountAsync("select count(*) from audit_events where action = 'agent.upgrade_failed'"));
            // Still the same agent, still working, on the version it had.
            Assert.Equal("succeeded", await third.EnsureNamespaceAsync(workspace, "after-rollback", agent.Id));
            Assert.Equal("0.2.0", (await third.Portal.Get<AgentRegistry>().GetAsync(agent.Id, CancellationToken.None))!.AgentVersion);
        }
        File.Delete(broken);
        try { Directory.Delete(state, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Agent builds of other versions, made once per test run from this repository (the same source, another Version).</summary>
public static class AgentBuilds
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly Dictionary<string, string> Built = [];

    public static async Task<string> VersionAsync(string version)
    {
        await Gate.WaitAsync();
        try
        {
            if (Built.TryGetValue(version, out var existing)) return existing;
            var output = Directory.CreateTempSubdirectory($"cogrion-agent-{version}-").FullName;
            var result = await ProcessRunner.RunAsync("dotnet",
                ["build", Path.Combine(RepoPaths.Root, "Portal.Agent", "Portal.Agent.csproj"), "-c", "Release", $"-p:Version={version}", "-o", output,
                    "-nologo", "-v", "quiet"],
                timeout: TimeSpan.FromMinutes(10));
            if (result.ExitCode != 0) throw new InvalidOperationException($"Building agent {version} " +
                $"failed:\n{result.StandardOutput}{result.StandardError}");
            return Built[version] = Path.Combine(output, "Portal.Agent");
        }
        finally
        {
            Gate.Release();
        }
    }
}

/// <summary>A real Portal on a Kestrel port with its job workers, on a database and a sandbox state directory of its own.</summary>
public sealed class SandboxInstallWorld : IAsyncDisposable
{
    public static readonly Actor Admin = Actor.System("test-admin");
    public static string RepositoryModules => Path.Combine(RepoPaths.Root, "terraform");

    public required PortalServer Portal { get; init; }
    public required string Database { get; init; }
    public required string ConnectionString { get; init; }
    public required Guid TenantId { get; init; }
    public required Guid AccountId { get; init; }
    public required string StateRoot { get; init; }
    public bool KeepDatabase { get; set; }
    private bool ownsState;

    /// <summary>A copy of the repository's terraform/, to change.</summary>
    public static string CopyOfModules()
    {
        var copy = Directory.CreateTempSubdirectory("cogrion-modules-").FullName;
        foreach (var file in Directory.EnumerateFiles(RepositoryModules, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(RepositoryModules, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    private static Dictionary<string, string?> Settings(string baseUrl, string stateRoot, string modules, string image, string executable,
        IReadOnlyDictionary<string, string>? moreImages, TimeSpan registrationTimeout, TimeSpan? readyWithin)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Jobs:RunWorkers"] = "true",
            ["Jobs:PollInterval"] = "00:00:01",
            ["OpenTofu:SandboxSpeed"] = "5000",
            ["OpenTofu:WorkRoot"] = Path.Combine(stateRoot, "work"),
            ["Provisioning:SandboxStateRoot"] = Path.Combine(stateRoot, "state"),
            ["Provisioning:ModulesRoot"] = modules,
            ["Provisioning:CatalogRoot"] = Path.Combine(RepoPaths.Root, "catalog"),
            ["Provisioning:SandboxChartReadyDelay"] = "00:00:01",
            ["Provisioning:AppStuckPendingAfter"] = "00:00:03",
            ["Provisioning:DriftInterval"] = "00:00:00",
            ["Provisioning:PortalUrl"] = baseUrl,
            ["Provisioning:SandboxAgentExecutable"] = executable,
            ["Provisioning:SandboxAgentRegistrationTimeout"] = registrationTimeout.ToString(),
            ["Agents:AgentImage"] = image,
        };
        if (readyWithin is { } deadline) settings["Agents:UpgradeReadyWithin"] = deadline.ToString();
        var index = 0;
        foreach (var (reference, build) in moreImages ?? new Dictionary<string, string>())
        {
            settings[$"Provisioning:SandboxAgentImages:{index}:Image"] = reference;
            settings[$"Provisioning:SandboxAgentImages:{index++}:Executable"] = build;
        }
        return settings;
    }

    public static async Task<SandboxInstallWorld> StartAsync(string modules, TimeSpan? registrationTimeout = null, string? stateRoot = null,
        IReadOnlyDictionary<string, string?>? moreSettings = null)
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateMigratedDatabaseAsync("install");
        var connectionString = server.ConnectionString(database);
        var root = stateRoot ?? Directory.CreateTempSubdirectory("cogrion-install-").FullName;
        var baseUrl = PortalProcess.NextBaseUrl();
        var settings = Settings(baseUrl, root, modules, $"{AgentInstall.ImageRepository}:{AgentRelease.PortalVersion}",
            AgentProcess.Binary, null, registrationTimeout ?? TimeSpan.FromMinutes(2), null);
        foreach (var (key, value) in moreSettings ?? new Dictionary<string, string?>()) settings[key] = value;
        var portal = await PortalServer.StartAsync(connectionString, baseUrl, settings);
        await using var connection = new NpgsqlConnection(connectionString);
        var tenant = await connection.ExecuteScalarAsync<Guid>(
            "insert into tenants (parent_id, slug, name, domain) values (null, 'install', 'Install', @domain) returning id",
                new { domain = $"install.{TestSettings.BaseDomain}" });
        var account = await connection.ExecuteScalarAsync<Guid>("""
            insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status)
            values (@tenant, 'sandbox', 'sandbox', 'ref-install', '', 'ext-install', 'verified') returning id
            """, new { tenant });
        return new SandboxInstallWorld
        {
            Portal = portal,
            Database = database,
            ConnectionString = connectionString,
            TenantId = tenant,
            AccountId = account,
            StateRoot = Path.Combine(root, "state"),
            ownsState = stateRoot is null,
        };
    }

    /// <summary>Another Portal (a new release: another agent image) on the same database, address and sandbox state: it resumes the
    /// clusters.</summary>
    public static async Task<SandboxInstallWorld> ResumeAsync(string database, Guid tenant, string baseUrl, string stateRoot, string image,
        string executable,
        IReadOnlyDictionary<string, string> moreImages, TimeSpan? readyWithin = null)
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = server.ConnectionString(database);
        var portal = await PortalServer.StartAsync(connectionString, baseUrl,
            Settings(baseUrl, stateRoot, RepositoryModules, image, executable, moreImages, TimeSpan.FromMinutes(2), readyWithin));
        return new SandboxInstallWorld
        {
            Portal = portal,
            Database = database,
            ConnectionString = connectionString,
            TenantId = tenant,
            AccountId = Guid.Empty,
            StateRoot = Path.Combine(stateRoot, "state"),
            KeepDatabase = true,
        };
    }

    public async Task<Guid> CreateWorkspaceAsync(string name, string cidr = "10.40.0.0/16")
    {
        var created = await Portal.Get<WorkspaceCommands>()
            .CreateAsync(TenantId, WorkspaceWorld.Valid(AccountId, name, cidr, approval: ApprovalMode.Automatic) with { Database = null },
            Admin, CancellationToken.None);
        Assert.True(created.Errors.IsEmpty, string.Join("; ", created.Errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        return created.Value!.Id;
    }

    public Task<Workspace> WaitForStatusAsync(Guid workspace, params WorkspaceStatus[] statuses) =>
        Eventually.ValueAsync(async () =>
            {
                await using var connection = new NpgsqlConnection(ConnectionString);
                await connection.OpenAsync();
                return (await WorkspaceStore.FindAsync(connection, null, TenantId, workspace, forUpdate: false, CancellationToken.None))!;
            },
            w => statuses.Contains(w.Status), $"workspace {workspace} to be {string.Join(" or ", statuses)}", TimeSpan.FromMinutes(4));

    /// <summary>A new workspace of the tenant, once it is ready (provisioned, its agent registered).</summary>
    public async Task<Workspace> ReadyWorkspaceAsync(string name) =>
        await WaitForStatusAsync(await CreateWorkspaceAsync(name), WorkspaceStatus.Ready);

    /// <summary>Waits (up to 3 minutes) until the workspace's app is in a state the test accepts, and returns it.</summary>
    public Task<WorkspaceAppView> WaitForAppAsync(Workspace workspace, string app, Func<WorkspaceAppView, bool> accept, string what) =>
        Eventually.ValueAsync(async () => (await Portal.Get<WorkspaceApps>().FindAsync(TenantId, workspace.Id, app, CancellationToken.None))!,
            v => v is not null && accept(v), what, TimeSpan.FromMinutes(3));

    /// <summary>Ensures an app namespace through the agent (the Portal's signed command, <see cref="AppNamespaces"/>): its outcome.</summary>
    public async Task<string> EnsureNamespaceAsync(Guid workspace, string ns, Guid? agentId = null)
    {
        agentId ??= (await Portal.Get<AgentRegistry>().ListForWorkspaceAsync(TenantId, workspace, CancellationToken.None)).Single().Id;
        return (await Portal.TryEnsureAppNamespaceAsync(TenantId, agentId.Value, ns, Admin, deadline: TimeSpan.FromMinutes(4))).Status;
    }

    public Task<AgentCommandView> CommandAsync(Guid agentId, Guid commandId) =>
        Eventually.ValueAsync(
            async () => (await Portal.Get<AgentCommandQueue>().HistoryAsync(agentId, 100, CancellationToken.None)).Single(c => c.Id == commandId),
            c => c.Status != "pending", $"a result for command {commandId}", TimeSpan.FromMinutes(4));

    public IReadOnlyList<JsonObject> ClusterObjects(Guid workspace)
    {
        var file = Path.Combine(StateRoot, workspace.ToString("n"), "cluster", "objects.json");
        var document = JsonNode.Parse(File.ReadAllText(file))!;
        return (document["objects"] as JsonObject ?? []).Select(o => (JsonObject)o.Value!).ToList();
    }

    public string? DeploymentImage(Guid workspace) => ClusterObjects(workspace)
        .Single(o => o["kind"]?.GetValue<string>() == "Deployment" && o["metadata"]?["name"]?.GetValue<string>() == AgentInstall.Deployment
            && o["metadata"]?["namespace"]?.GetValue<string>() == AgentInstall.Namespace)
        ["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"]?.GetValue<string>();

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return (await connection.QueryAsync<T>(sql)).ToList();
    }

    public async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    public async ValueTask DisposeAsync()
    {
        await Portal.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        if (!KeepDatabase) await (await PostgresServer.GetAsync()).DropDatabaseAsync(Database);
        if (ownsState)
            try { Directory.Delete(Path.GetDirectoryName(StateRoot)!, recursive: true); } catch (IOException) { }
    }
}
