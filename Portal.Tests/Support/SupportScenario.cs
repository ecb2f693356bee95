using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Support;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Support;

/// <summary>
/// A tenant with the real agent in a simulated cluster (an <see cref="AgentScenario"/>) and what support access needs
/// around it: the tenant and workspace rows, a platform admin who asks ("sam"), a tenant admin who approves ("ann") with
/// a software passkey registered through the Portal's real Fido2 path, and an app namespace (ensured through the Portal and
/// the agent, as an install makes it) with a crashing pod that has a log and events.
/// </summary>
public sealed class SupportScenario : IAsyncDisposable
{
    public const string RpId = "localhost";
    public const string Origin = "http://localhost:5999";
    public const string Namespace = "airflow";
    public const string Pod = "web-0";

    public required AgentScenario Scenario { get; init; }
    public required Guid Requester { get; init; }
    public required Guid Approver { get; init; }
    public required SoftwarePasskey Passkey { get; init; }
    public required string Slug { get; init; }

    public Guid TenantId => Scenario.TenantId;
    public Actor RequesterActor => Actor.User(Requester, "sam");
    public Actor ApproverActor => Actor.User(Approver, "ann");
    public T Get<T>() where T : notnull => Scenario.Portal.Get<T>();

    public static async Task<SupportScenario> StartAsync(IReadOnlyDictionary<string, string?>? portalSettings = null)
    {
        var scenario = await AgentScenario.StartAsync(portalSettings);
        var slug = "t" + Guid.NewGuid().ToString("N")[..8];
        Guid requester, approver;
        await using (var connection = new NpgsqlConnection(scenario.ConnectionString))
        {
            await connection.ExecuteAsync("insert into tenants (id, slug, name, domain) values (@TenantId, @slug, 'Acme', @domain)",
                new { scenario.TenantId, slug, domain = $"{slug}.{TestSettings.BaseDomain}" });
            var account = await connection.ExecuteScalarAsync<Guid>("""
                insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status)
                values (@TenantId, 'sandbox', 'sandbox', @slug, '', @slug, 'verified') returning id
                """, new { scenario.TenantId, slug });
            await connection.ExecuteAsync("""
                insert into workspaces (id, tenant_id, name, cloud_account_id, provider, region, network_cidr, kubernetes_version, node_pools,
                                        use_karpenter, approval_mode, status, created_by)
                values (@WorkspaceId, @TenantId, 'lake', @account, 'sandbox', 'sandbox-local-1', '10.60.0.0/16', '1.32', '[]'::jsonb,
                        false, 'automatic', 'ready', 'test')
                """, new { scenario.WorkspaceId, scenario.TenantId, account });
            requester = await connection.ExecuteScalarAsync<Guid>(
                "insert into users (subject, username, email, email_verified) values (@s, 'sam', 'sam@example.com', true) returning id",
                new { s = "s-sam-" + slug });
            approver = await connection.ExecuteScalarAsync<Guid>(
                "insert into users (subject, username, email, email_verified) values (@s, 'ann', 'ann@example.com', true) returning id",
                new { s = "s-ann-" + slug });
            await connection.ExecuteAsync("insert into tenant_memberships (tenant_id, user_id, role) values (@TenantId, @approver, 'admin')",
                new { scenario.TenantId, approver });
        }

        await scenario.EnsureAppNamespaceAsync(Namespace);
        await scenario.Agent.Admin.ApplyAsync(CrashingPod(new JsonArray(new JsonObject { ["name"] = "DB_PASSWORD", ["value"] = "literal-canary" })),
            default);

        var world = new SupportScenario
        {
            Scenario = scenario,
            Requester = requester,
            Approver = approver,
            Passkey = new SoftwarePasskey(RpId, Origin),
            Slug = slug,
        };
        await world.RegisterAsync(world.Passkey, approver, "ann");
        return world;
    }

    /// <summary>
    /// <see cref="Pod"/> in the app namespace: a container that prints one line and exits, a crash-looping pod with a log and events,
    /// as support meets them. It asks for what the namespace's quota requires of every pod (a real API server refuses one that
    /// does not) and needs nothing the namespace's Pod Security level forbids.
    /// </summary>
    public static JsonObject CrashingPod(JsonArray? env = null) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = Pod, ["namespace"] = Namespace },
        ["spec"] = new JsonObject
        {
            ["containers"] = new JsonArray(new JsonObject
            {
                ["name"] = "web",
                ["image"] = AgentProcess.Image,
                ["args"] = new JsonArray("--version"),
                ["env"] = env ?? [],
                ["resources"] = new JsonObject
                {
                    ["requests"] = new JsonObject { ["cpu"] = "100m", ["memory"] = "64Mi" },
                    ["limits"] = new JsonObject { ["memory"] = "64Mi" },
                },
            }),
        },
    };

    /// <summary>Registers a passkey through the Portal's Fido2 path, as the Support access page does with a browser's answer.</summary>
    public async Task<Cogrion.Portal.Infrastructure.Http.CommandResult<SupportPasskey>> RegisterAsync(SoftwarePasskey passkey, Guid userId,
        string name)
    {
        var approvers = Get<SupportApprovers>();
        var rp = new RelyingParty(RpId, Origin);
        var options = approvers.BeginRegistration(userId, name, rp, await approvers.PasskeysAsync(TenantId, default));
        var result = await approvers.RegisterAsync(TenantId, userId, options, passkey.Attest(options), name + "'s key", rp,
            Actor.User(userId, name), default);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.ToDictionary().SelectMany(e => e.Value)));
        return result;
    }

    public async Task<SupportRequest> RequestAsync(SupportScope scope = SupportScope.Status, Guid? requester = null)
    {
        var result = await Get<SupportRequests>().RequestAsync(new NewSupportRequest(TenantId, Scenario.WorkspaceId,
            "Customer reports crash-looping web pods", "INC-42", scope, 4), requester ?? Requester, requester is null ? "sam" : "ann",
            requester is null ? RequesterActor : ApproverActor, default);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.ToDictionary().SelectMany(e => e.Value)));
        return result.Value!;
    }

    /// <summary>Approves as the tenant admin: the passkey signs the grant's challenge; the Portal relays it.</summary>
    public async Task<SupportRequest> ApproveAsync(SupportRequest request)
    {
        var requests = Get<SupportRequests>();
        var grant = requests.ProposeGrant(request);
        var result = await requests.ApproveAsync(TenantId, request.Id, grant, Passkey.Sign(grant.Challenge()), Approver, ApproverActor, default);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.ToDictionary().SelectMany(e => e.Value)));
        return await GrantVerdictAsync(request.Id);
    }

    public Task<SupportRequest> GrantVerdictAsync(Guid requestId) =>
        Eventually.ValueAsync(async () => (await Get<SupportRequests>().GetForTenantAsync(TenantId, requestId, default))!,
            r => r.Grant is GrantDelivery.Recorded or GrantDelivery.Refused, "the agent to check the grant", TimeSpan.FromSeconds(60));

    /// <summary>Asks through the session, as the requester's page does, and waits for the agent's verdict.</summary>
    public async Task<SupportActionRecord> AskAsync(Guid requestId, SupportQuestion question)
    {
        var asked = await Get<SupportSessions>().AskAsync(Requester, requestId, question, RequesterActor, default);
        Assert.True(asked.Succeeded, string.Join(" ", asked.Errors.ToDictionary().SelectMany(e => e.Value)));
        if (asked.Value!.Outcome != SupportActionOutcome.Pending) return asked.Value;
        return await Eventually.ValueAsync(
            async () => (await Get<SupportSessions>().ForRequestAsync(Requester, requestId, default)).Single(a => a.Id == asked.Value.Id),
            a => a.Outcome != SupportActionOutcome.Pending, "the agent to answer the support action", TimeSpan.FromSeconds(60));
    }

    /// <summary>Sends a command straight into the agent's queue, as a compromised Portal could, bypassing every Portal check.</summary>
    public async Task<AgentCommandView> BypassAsync(string type, JsonObject payload, PortalServer? via = null) =>
        await Scenario.CompletedAsync(await Scenario.EnqueueAsync(type, payload, via), via, TimeSpan.FromSeconds(60));

    public static JsonObject Action(Guid grantId, string action, string? name = null) =>
        JsonSerializer.SerializeToNode(new SupportActionPayload(grantId, action, Namespace, action == SupportActions.Describe ? "Pod" : null,
            name, null, action == SupportActions.Logs ? 10 : null), ProtocolJson.Default.SupportActionPayload)!.AsObject();

    public static JsonObject GrantPayload(SupportGrant grant, WebAuthnAssertion assertion) =>
        JsonSerializer.SerializeToNode(new SupportGrantPayload(grant, assertion), ProtocolJson.Default.SupportGrantPayload)!.AsObject();

    public async Task<IReadOnlyList<string>> AuditActionsAsync()
    {
        await using var connection = new NpgsqlConnection(Scenario.ConnectionString);
        return (await connection.QueryAsync<string>("select action from audit_events where tenant_id = @TenantId order by id", new { TenantId }))
            .ToList();
    }

    /// <summary>Events of the tenant's trail whose hash or link to the previous event does not hold (0 for an intact chain).</summary>
    public async Task<long> BrokenChainLinksAsync()
    {
        await using var connection = new NpgsqlConnection(Scenario.ConnectionString);
        return await connection.ExecuteScalarAsync<long>("""
            select count(*) from (
                select hash, prev_hash, lag(hash) over (order by id) as previous,
                       sha256(coalesce(prev_hash, ''::bytea) || convert_to(audit_event_payload(occurred_at, actor_kind, actor_id, actor_name,
                           tenant_id, action, target_kind, target_id, request_id, details), 'UTF8')) as computed
                from audit_events where tenant_id = @TenantId) e
            where e.hash <> e.computed or e.prev_hash is distinct from e.previous
            """, new { TenantId });
    }

    public async ValueTask DisposeAsync()
    {
        Passkey.Dispose();
        await Scenario.DisposeAsync();
    }
}
