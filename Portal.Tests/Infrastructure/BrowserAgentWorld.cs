using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Agents;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// A browser test with the real agent: an isolated <see cref="PortalStack"/> (database, dev identity provider, Portal
/// process of its own), Erin signed in on a page of her own in Chromium, her tenant <see cref="TenantSlug"/> with the
/// sandbox workspace <see cref="WorkspaceName"/> (rows as the wizard writes them), and the real agent binary of that
/// workspace installed from the install template into a simulated cluster, waited for until it logs
/// <see cref="AgentReadyWhen"/>. A test class holds one in a field and forwards its <see cref="IAsyncLifetime"/> to it, so
/// each test gets a world of its own and nothing is shared between tests or classes.
/// </summary>
public sealed class BrowserAgentWorld : IAsyncLifetime
{
    public const string TenantSlug = "vault";
    public const string WorkspaceName = "lake";

    /// <summary>What the agent logs once it has called in (registered and polling).</summary>
    public const string Connected = "is connected to the Portal";

    /// <summary>What the agent logs once the Portal has its signed encryption key: the secrets channel is open.</summary>
    public const string KeyPublished = "Published encryption key";

    /// <summary>Serve the catalog's charts from the cluster's simulated Helm repositories (and install Flux).</summary>
    public bool CatalogCharts { get; init; }

    /// <summary>Install Flux's controllers (default: when <see cref="CatalogCharts"/>), as <see cref="AgentProcess.StartClusterAsync"/>.</summary>
    public bool? Flux { get; init; }

    /// <summary>The Portal at http://localhost: a WebAuthn relying party id is a domain, never an IP address.</summary>
    public bool OnLocalhost { get; init; }

    /// <summary>The agent's environment beyond the template's (default: the tests' fast pacing, <see cref="AgentProcess.FastTimings"/>).</summary>
    public IReadOnlyDictionary<string, string>? AgentEnvironment { get; init; }

    /// <summary>The agent's log line the world waits for before a test starts.</summary>
    public string AgentReadyWhen { get; init; } = Connected;

    public PortalStack Stack { get; private set; } = null!;

    /// <summary>Erin's page, signed in; she is admin of the tenant.</summary>
    public IPage Page { get; private set; } = null!;

    public Guid TenantId { get; private set; }
    public Guid WorkspaceId { get; private set; }

    /// <summary>Erin, as the audit trail names her.</summary>
    public Actor Erin { get; private set; } = null!;
    public AgentProcess Agent { get; private set; } = null!;

    public string ConnectionString => Stack.ConnectionString;

    public async Task InitializeAsync()
    {
        try
        {
            Stack = await PortalStack.StartIsolatedAsync(onLocalhost: OnLocalhost);
            Page = await Stack.NewPageAsync();
            // Erin's user row exists once she has signed in: the tenant's membership needs it.
            await Stack.SignInAsync(Page, DevIdentityProvider.Erin);
            (TenantId, WorkspaceId, Erin) = await SeedAsync("erin");
            Agent = await AgentProcess.StartClusterAsync(catalogCharts: CatalogCharts, flux: Flux);
            await Agent.InstallAsync(TenantId, WorkspaceId, Stack.BaseUrl,
                await TestBootstrapTokens.MintAsync(ConnectionString, TenantId, WorkspaceId), extraEnvironment: AgentEnvironment);
            await Agent.WaitForOutputAsync(AgentReadyWhen);
        }
        catch
        {
            // xUnit 2 never disposes a test class whose InitializeAsync threw: what has started stops here.
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// An app namespace as production makes it (<see cref="AppNamespaces"/>), asked for by Erin. The Portal under test is a process
    /// of its own, so the command is enqueued by another replica started for it in this process on the same database and key ring
    /// (the Portal's <see cref="AgentCommandQueue"/>, signed with the Portal's key, as any replica signs);
    /// the Portal process delivers it to the agent, which answers it. The replica stops once the agent has answered.
    /// </summary>
    public async Task<AgentCommandAnswer> EnsureAppNamespaceAsync(string ns, string app = AppNamespaces.DefaultApp)
    {
        await using var replica = await PortalServer.StartAsync(ConnectionString, overrides: new Dictionary<string, string?>
        {
            ["Jobs:RunWorkers"] = "false",
        });
        var agents = await replica.Get<AgentRegistry>().ListForWorkspaceAsync(TenantId, WorkspaceId, CancellationToken.None);
        var agent = Assert.Single(agents, a => a.Status == "active");
        return await replica.EnsureAppNamespaceAsync(TenantId, agent.Id, ns, Erin, app);
    }

    /// <summary>The agent identity's fingerprint as a person reads it in the cluster (its identity ConfigMap).</summary>
    public async Task<string> AgentFingerprintAsync()
    {
        var configMap = await Agent.Admin.GetAsync(new ObjectReference("v1", "ConfigMap", AgentInstall.IdentityConfigMap,
            AgentInstall.Namespace), default);
        return configMap!["data"]!["fingerprint"]!.GetValue<string>();
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    /// <summary>In how many rows of every table of the Portal's database (any schema) the value stands.</summary>
    public async Task<int> OccurrencesInDatabaseAsync(string value)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        var tables = await connection.QueryAsync<string>("""
            select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables
            where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'
            """);
        var found = 0;
        foreach (var table in tables)
            found += await connection.ExecuteScalarAsync<int>($"select count(*) from {table} t where strpos(t::text, @value) > 0", new { value });
        return found;
    }

    /// <summary>The tenant where the signed-in person is admin, with its ready sandbox workspace.</summary>
    private async Task<(Guid Tenant, Guid Workspace, Actor User)> SeedAsync(string username)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        var user = await connection.ExecuteScalarAsync<Guid>("select id from users where username = @username", new { username });
        var tenant = await connection.ExecuteScalarAsync<Guid>(
            "insert into tenants (parent_id, slug, name, domain) values (null, @TenantSlug, 'Vault', @domain) returning id",
                new { TenantSlug, domain = $"{TenantSlug}.{TestSettings.BaseDomain}" });
        await connection.ExecuteAsync(
            "insert into tenant_memberships (tenant_id, user_id, role) values (@tenant, @user, 'admin'::tenant_role)", new { tenant, user });
        var account = await connection.ExecuteScalarAsync<Guid>("""
            insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status)
            values (@tenant, 'sandbox', 'sandbox', 'ref-vault', '', 'ext-vault', 'verified') returning id
            """, new { tenant });
        var workspace = Guid.CreateVersion7();
        await connection.ExecuteAsync("""
            insert into workspaces (id, tenant_id, name, cloud_account_id, provider, region, network_cidr, kubernetes_version, node_pools,
                                    use_karpenter, approval_mode, status, created_by)
            values (@workspace, @tenant, @WorkspaceName, @account, 'sandbox', 'sandbox-local-1', '10.60.0.0/16', '1.32', '[]'::jsonb,
                    false, 'automatic', 'ready', 'test')
            """, new { workspace, tenant, WorkspaceName, account });
        return (tenant, workspace, Actor.User(user, username));
    }

    /// <summary>Stops the agent's cluster and the stack, whichever of them started; once.</summary>
    public async Task DisposeAsync()
    {
        if (Agent is not null) await Agent.DisposeAsync();
        if (Stack is not null) await Stack.DisposeAsync();
        Agent = null!;
        Stack = null!;
    }
}
