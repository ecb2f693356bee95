using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// The real agent binary against the real Portal over HTTP, started by a simulated cluster's kubelet
/// from the install's Deployment and reaching that cluster's API server over HTTPS with its token.
/// </summary>
public sealed class AgentEndToEndTests
{
    /// <summary>Well under the agent's 50 s long poll: a command that arrives within it was pushed, not picked up by a re-poll.</summary>
    private static readonly TimeSpan PushDeadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task An_agent_registers_with_its_bootstrap_token_and_heartbeats_its_inventory()
    {
        await using var scenario = await AgentScenario.StartAsync();

        var agent = await Eventually.ValueAsync(scenario.AgentAsync, a => a.LastSeenAt is not null, "a first heartbeat");

        Assert.Equal("active", agent.Status);
        Assert.Equal(scenario.WorkspaceId, agent.WorkspaceId);
        Assert.Equal("online", agent.Health(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(3)));
        var inventory = agent.ParsedInventory()!;
        Assert.Equal("v1.31.0-sandbox", inventory.KubernetesVersion);
        Assert.Equal(3, inventory.Nodes.Count);
        Assert.Equal(12, inventory.Capacity.CpuCores);
        // Its key and registration are in the state Secret, the only Secret of its namespace it may touch.
        Assert.Contains($"v1|Secret|{AgentInstall.Namespace}|{AgentInstall.StateSecret}", scenario.Agent.ClusterSnapshot());
    }

    [Fact]
    public async Task A_command_enqueued_while_the_agent_waits_is_delivered_at_once_and_its_result_recorded()
    {
        await using var scenario = await AgentScenario.StartAsync();

        var id = await scenario.EnqueueAsync(CommandTypes.EnsureNamespace, AgentScenario.Namespace("tenant-airflow"));
        var command = await scenario.CompletedAsync(id, deadline: PushDeadline);

        Assert.Equal("succeeded", command.Status);
        var cluster = JsonNode.Parse(scenario.Agent.ClusterSnapshot())!.AsObject();
        Assert.Contains("v1|Namespace||tenant-airflow", cluster.Select(e => e.Key));
        Assert.Contains("v1|ResourceQuota|tenant-airflow|cogrion-quota", cluster.Select(e => e.Key));
        Assert.Contains("networking.k8s.io/v1|NetworkPolicy|tenant-airflow|default-deny", cluster.Select(e => e.Key));
        // Airflow's level, as its catalog entry writes it down (its chart needs "baseline").
        Assert.Equal("baseline",
            cluster["v1|Namespace||tenant-airflow"]!["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_app_namespace_tests_get_is_the_one_an_install_asks_for_made_by_the_agent_under_its_own_rbac()
    {
        await using var scenario = await AgentScenario.StartAsync();

        await scenario.EnsureAppNamespaceAsync("airflow");

        // What the catalog's install asks for and namespace.ensure's executor makes of it; a world that wrote its own copy fails here.
        var airflow = scenario.Portal.Get<AppCatalog>().Find("airflow")!;
        var admin = scenario.Agent.Admin;
        var ns = (await admin.GetAsync(new ObjectReference("v1", "Namespace", "airflow", null), default))!;
        var labels = ns["metadata"]!["labels"]!;
        Assert.Equal(AgentLabels.ManagedByValue, labels[AgentLabels.ManagedBy]!.GetValue<string>());
        Assert.Equal("airflow", labels[AgentLabels.App]!.GetValue<string>());
        Assert.Equal(PodSecurityLevel.Baseline, airflow.PodSecurity);
        Assert.Equal("baseline", labels["pod-security.kubernetes.io/enforce"]!.GetValue<string>());
        Assert.Equal("restricted", labels["pod-security.kubernetes.io/warn"]!.GetValue<string>());

        var binding = (await admin.GetAsync(new ObjectReference("rbac.authorization.k8s.io/v1", "RoleBinding", AgentInstall.WorkloadRoleBinding,
            "airflow"), default))!;
        Assert.Equal(("ClusterRole", AgentInstall.WorkloadClusterRole),
            (binding["roleRef"]!["kind"]!.GetValue<string>(), binding["roleRef"]!["name"]!.GetValue<string>()));
        var subject = Assert.Single(binding["subjects"]!.AsArray())!;
        Assert.Equal(("ServiceAccount", AgentInstall.ServiceAccount, AgentInstall.Namespace), (subject["kind"]!.GetValue<string>(),
            subject["name"]!.GetValue<string>(), subject["namespace"]!.GetValue<string>()));

        var quota = (await admin.GetAsync(new ObjectReference("v1", "ResourceQuota", "cogrion-quota", "airflow"), default))!;
        var hard = quota["spec"]!["hard"]!;
        Assert.Equal(airflow.Resources.Cpu, hard["requests.cpu"]!.GetValue<string>());
        Assert.Equal(airflow.Resources.Memory, hard["requests.memory"]!.GetValue<string>());
        Assert.Equal(airflow.Resources.Memory, hard["limits.memory"]!.GetValue<string>());
        Assert.Equal(airflow.Resources.Pods.ToString(System.Globalization.CultureInfo.InvariantCulture), hard["pods"]!.GetValue<string>());

        var policy = (await admin.GetAsync(new ObjectReference("networking.k8s.io/v1", "NetworkPolicy", "default-deny", "airflow"), default))!;
        Assert.Empty(policy["spec"]!["podSelector"]!.AsObject());
        Assert.Equal(["Ingress", "Egress"], policy["spec"]!["policyTypes"]!.AsArray().Select(t => t!.GetValue<string>()));

        // Every one of them written by the agent, with its service account's token: none by the cluster's admin.
        foreach (var written in new[] { ns, binding, quota, policy })
            Assert.Equal([AgentLabels.FieldManager], written["metadata"]!["managedFields"]!.AsArray()
                .Select(e => e!["manager"]!.GetValue<string>()).Distinct());
    }

    [Fact]
    public async Task A_command_an_executor_did_not_foresee_fails_alone_and_the_agent_keeps_working()
    {
        await using var scenario = await AgentScenario.StartAsync();

        // metadata as an array: reading metadata.name throws inside the executor, not a payload error it checks for.
        var odd = new JsonObject
        {
            ["objects"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "ConfigMap",
                ["metadata"] = new JsonArray(1),
            })
        };
        var failed = await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.ApplyManifest, odd));

        Assert.Equal("failed", failed.Status);
        Assert.Contains("failed unexpectedly on manifest.apply", failed.ResultMessage);
        var next = await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.EnsureNamespace, AgentScenario.Namespace("still-here")));
        Assert.Equal("succeeded", next.Status);
    }

    [Fact]
    public async Task An_app_applied_in_a_cluster_without_Flux_fails_saying_so_and_the_agent_still_reports_its_namespace()
    {
        await using var scenario = await AgentScenario.StartAsync();
        Assert.Equal("succeeded", (await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.EnsureNamespace,
            AgentScenario.Namespace("lake")))).Status);

        var release = new JsonObject
        {
            ["objects"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "helm.toolkit.fluxcd.io/v2",
                ["kind"] = "HelmRelease",
                ["metadata"] = new JsonObject { ["name"] = "airflow", ["namespace"] = "lake" },
                ["spec"] = new JsonObject { ["chart"] = new JsonObject { ["spec"] = new JsonObject { ["chart"] = "airflow" } } },
            }),
        };
        var failed = await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.ApplyManifest, release));

        Assert.Equal("failed", failed.Status);
        Assert.StartsWith("Flux is not installed in this cluster", failed.ResultMessage);
        Assert.Contains("HelmRelease (helm.toolkit.fluxcd.io/v2)", failed.ResultMessage);
        // Its app namespace (whose HelmRelease kind the API does not serve) does not stop the reports: it is there, without an app.
        var inventory = await Eventually.ValueAsync(async () => (await scenario.AgentAsync()).ParsedInventory(),
            i => i?.Namespaces.Any(n => n.Name == "lake") == true, "the app namespace in a report");
        Assert.Empty(inventory!.Apps ?? []);
    }

    [Fact]
    public async Task A_command_enqueued_on_another_portal_replica_wakes_the_agents_long_poll()
    {
        await using var scenario = await AgentScenario.StartAsync();
        await using var replica = await PortalServer.StartAsync(scenario.ConnectionString, overrides: AgentScenario.FastPortal);

        var id = await scenario.EnqueueAsync(CommandTypes.ReportInventory, via: replica);

        Assert.Equal("succeeded", (await scenario.CompletedAsync(id, deadline: PushDeadline)).Status);
    }

    [Fact]
    public async Task An_agent_that_stops_heartbeating_is_shown_offline()
    {
        await using var scenario = await AgentScenario.StartAsync();
        await Eventually.ValueAsync(scenario.AgentAsync, a => a.LastSeenAt is not null, "a first heartbeat");

        await scenario.Agent.ScaleToZeroAsync();

        await Eventually.ValueAsync(async () => (await scenario.AgentAsync()).Health(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(3)),
            health => health == "offline", "the agent to show offline");
        var fleet = await scenario.Portal.Get<AgentRegistry>().FleetOverviewAsync(CancellationToken.None);
        Assert.Equal(1, fleet.Offline);
    }

    [Fact]
    public async Task Key_rotation_by_command_replaces_the_agents_key_and_the_agent_keeps_working()
    {
        await using var scenario = await AgentScenario.StartAsync();
        var before = (await scenario.AgentAsync()).KeyId;

        var rotation = await scenario.EnqueueAsync(CommandTypes.RotateKey);
        Assert.Equal("succeeded", (await scenario.CompletedAsync(rotation)).Status);
        var after = await scenario.AgentAsync();

        Assert.NotEqual(before, after.KeyId);
        Assert.NotNull(after.KeyRotatedAt);
        // The next command needs a token obtained with the new key.
        var next = await scenario.EnqueueAsync(CommandTypes.ReportInventory);
        Assert.Equal("succeeded", (await scenario.CompletedAsync(next)).Status);
    }

    [Fact]
    public async Task A_revoked_agent_stops_and_says_why()
    {
        await using var scenario = await AgentScenario.StartAsync();

        Assert.True(await scenario.Portal.Get<AgentRegistry>()
            .RevokeAsync(scenario.AgentId, "Tenant offboarded.", AgentScenario.Admin, CancellationToken.None));

        // It stops by itself with exit code 4 and says why...
        var stopped = await Eventually.ValueAsync(() => Task.FromResult(scenario.Agent.Pods().Single()),
            pod => pod["status"]?["containerStatuses"]?[0]?["lastState"]?["terminated"]?["exitCode"]?.GetValue<int>() == 4,
                "the agent to exit with code 4");
        Assert.NotNull(stopped);
        Assert.Contains("Tenant offboarded.", scenario.Agent.Output);
        // ...and it remembers: restarted by the kubelet, it refuses to call the Portal and repeats why.
        await Eventually.ValueAsync(() => Task.FromResult(scenario.Agent.Output.Split("Tenant offboarded.").Length - 1), n => n >= 2,
            "the restarted agent to repeat why it stopped", TimeSpan.FromSeconds(60));
        Assert.Equal("revoked", (await scenario.AgentAsync()).Status);
    }

    [Fact]
    public async Task The_agent_catches_up_on_commands_enqueued_while_the_portal_was_down()
    {
        await using var scenario = await AgentScenario.StartAsync();
        var portalUrl = scenario.Portal.BaseUrl;

        await scenario.Portal.DisposeAsync();
        await scenario.Agent.WaitForOutputAsync("Command poll failed");
        // Enqueued through another replica while the agent's Portal is away.
        Guid id;
        await using (var replica = await PortalServer.StartAsync(scenario.ConnectionString, overrides: AgentScenario.FastPortal))
            id = await scenario.EnqueueAsync(CommandTypes.EnsureNamespace, AgentScenario.Namespace("caught-up"), via: replica);
        scenario.Portal = await PortalServer.StartAsync(scenario.ConnectionString, portalUrl, AgentScenario.FastPortal);

        Assert.Equal("succeeded", (await scenario.CompletedAsync(id)).Status);
        await scenario.Agent.WaitForOutputAsync("The Portal is reachable again");
        Assert.Contains("v1|Namespace||caught-up", scenario.Agent.ClusterSnapshot());
    }

    [Fact]
    public async Task Uninstall_removes_the_namespaces_the_agent_created_and_stops_the_agent()
    {
        await using var scenario = await AgentScenario.StartAsync();
        Assert.Equal("succeeded",
            (await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.EnsureNamespace, AgentScenario.Namespace("app-one")))).Status);

        Assert.Contains($"|ClusterRole||{AgentInstall.ClusterRole}\"", scenario.Agent.ClusterSnapshot());
        var uninstall = await scenario.EnqueueAsync(CommandTypes.Uninstall);

        Assert.Equal("succeeded", (await scenario.CompletedAsync(uninstall)).Status);
        // It removed what it created and then itself: its namespace (Deployment, pods, state Secret) and cluster roles.
        var snapshot = await Eventually.ValueAsync(() => Task.FromResult(scenario.Agent.ClusterSnapshot()),
            s => !s.Contains($"v1|Namespace||{AgentInstall.Namespace}", StringComparison.Ordinal), "the agent's namespace to be gone");
        Assert.DoesNotContain("app-one", snapshot);
        Assert.DoesNotContain(AgentInstall.StateSecret, snapshot);
        Assert.DoesNotContain($"ClusterRole||{AgentInstall.WorkloadClusterRole}", snapshot);
        // Its own ClusterRole and binding went with the namespace it made their owner: nothing of the install is left.
        Assert.DoesNotContain($"|ClusterRole||{AgentInstall.ClusterRole}\"", snapshot);
        Assert.DoesNotContain($"|ClusterRoleBinding||{AgentInstall.ClusterRoleBinding}\"", snapshot);
        Assert.DoesNotContain(AgentInstall.SupportReader, snapshot);
        Assert.Equal("uninstalled", (await scenario.AgentAsync()).Status);
        await Eventually.ValueAsync(() => Task.FromResult(scenario.Agent.Pods().Count), n => n == 0, "the agent's pod to stop");
    }

    [Fact]
    public async Task An_uninstall_is_finished_even_when_the_Portal_refuses_the_agent_while_it_removes_itself()
    {
        // The Portal drops an uninstalled agent's credentials as it records the result, so the agent's next beat is refused while it
        // is still removing itself. Deleting its workload role is held here until that refusal has been seen: the refusal must not
        // stop the agent halfway (it once did, leaving its namespace, Deployment and roles behind) nor write its deleted state back.
        await using var scenario = await AgentScenario.StartAsync();
        using (var held = scenario.Agent.Cluster.Api.Hold((method, path) =>
                   method == "DELETE" && path.EndsWith("/clusterroles/" + AgentInstall.WorkloadClusterRole, StringComparison.Ordinal)))
        {
            Assert.Equal("succeeded", (await scenario.CompletedAsync(await scenario.EnqueueAsync(CommandTypes.Uninstall))).Status);
            await held.Arrived.WaitAsync(TimeSpan.FromMinutes(1));
            await scenario.Agent.WaitForOutputAsync("while it removes itself");
        }

        var snapshot = await Eventually.ValueAsync(() => Task.FromResult(scenario.Agent.ClusterSnapshot()),
            s => !s.Contains($"v1|Namespace||{AgentInstall.Namespace}", StringComparison.Ordinal), "the agent's namespace to be gone");
        Assert.DoesNotContain(AgentInstall.StateSecret, snapshot);
        Assert.DoesNotContain($"ClusterRole||{AgentInstall.WorkloadClusterRole}", snapshot);
        Assert.DoesNotContain($"|ClusterRole||{AgentInstall.ClusterRole}\"", snapshot);
        Assert.DoesNotContain(AgentInstall.SupportReader, snapshot);
        // Its pod stopped because its namespace went (the pod's log goes with it, so the proof is the cluster, not the log).
        await Eventually.ValueAsync(() => Task.FromResult(scenario.Agent.Pods().Count), n => n == 0, "the agent's pod to stop");
    }

    [Fact]
    public async Task A_command_signed_by_another_key_is_rejected_and_not_executed()
    {
        await using var scenario = await AgentScenario.StartAsync();
        using var rogue = ProtocolKeys.Create();

        var id = await InsertForgedCommandAsync(scenario, scenario.AgentId, envelope =>
            Jws.Sign(envelope, ProtocolJson.Default.CommandEnvelope, ProtocolV1.CommandJwsType, "rogue", rogue));

        var command = await scenario.CompletedAsync(id);
        Assert.Equal("rejected", command.Status);
        Assert.Contains("signature", command.ResultMessage);
        Assert.DoesNotContain("forged", scenario.Agent.ClusterSnapshot());
    }

    [Fact]
    public async Task A_command_signed_by_the_portal_for_another_agent_is_rejected_and_not_executed()
    {
        await using var scenario = await AgentScenario.StartAsync();
        var signer = scenario.Portal.Get<CommandSigner>();

        var id = await InsertForgedCommandAsync(scenario, Guid.NewGuid(), envelope => signer.SignAsync(envelope, CancellationToken.None).GetAwaiter()
            .GetResult());

        var command = await scenario.CompletedAsync(id);
        Assert.Equal("rejected", command.Status);
        Assert.Contains("addressed to agent", command.ResultMessage);
        Assert.DoesNotContain("forged", scenario.Agent.ClusterSnapshot());
    }

    /// <summary>
    /// Puts a command in this agent's queue as someone who can write to the database but does not
    /// hold the Portal's signing key (or mis-addresses it) would, bypassing the Portal's enqueue.
    /// </summary>
    private static async Task<Guid> InsertForgedCommandAsync(AgentScenario scenario, Guid addressedTo, Func<CommandEnvelope, string> sign)
    {
        var id = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var payload = System.Text.Json.JsonSerializer.SerializeToElement(AgentScenario.Namespace("forged"), ProtocolJson.Default.JsonObject);
        var envelope = sign(new CommandEnvelope(id, addressedTo, CommandTypes.EnsureNamespace, payload, id.ToString(), now, now.AddHours(1)));
        await using var connection = new NpgsqlConnection(scenario.ConnectionString);
        await connection.ExecuteAsync("""
            insert into agent_commands (id, agent_id, tenant_id, type, payload, idempotency_key, envelope, created_at, created_by, expires_at)
            values (@id, @AgentId, @TenantId, 'namespace.ensure', '{}', @key, @envelope, now(), 'forger', now() + interval '1 hour');
            select pg_notify('agent_commands', @AgentId::text);
            """, new { id, scenario.AgentId, scenario.TenantId, key = id.ToString(), envelope });
        return id;
    }
}
