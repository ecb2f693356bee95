using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// The in-process Portal on a database of the test's own, with the real job engine (when asked), the
/// real runner and the real tofu-sandbox at test speed. Tenants and verified cloud accounts are
/// inserted with SQL: the cloud account UI is another feature's.
/// </summary>
public sealed class WorkspaceWorld : IAsyncDisposable
{
    private readonly string database;
    private readonly string root = Directory.CreateTempSubdirectory("cogrion-ws-test-").FullName;

    public PortalAppFactory Portal { get; }

    /// <summary>Every bootstrap token a run minted, so a test can look for it where it must not be.</summary>
    public List<string> Tokens { get; } = [];
    public string ConnectionString { get; }
    public string WorkRoot => Path.Combine(root, "work");
    public string StateRoot => Path.Combine(root, "state");
    public static Actor Operator { get; } = Actor.System("test-operator");

    private WorkspaceWorld(string database, string connectionString, bool runWorkers, IDictionary<string, string?>? settings,
        Action<IServiceCollection>? services)
    {
        this.database = database;
        ConnectionString = connectionString;
        Portal = new PortalAppFactory(connectionString, overrides: new Dictionary<string, string?>
        {
            ["Jobs:RunWorkers"] = runWorkers ? "true" : "false",
            ["Jobs:PollInterval"] = "00:00:01",
            ["OpenTofu:SandboxSpeed"] = "5000",
            ["OpenTofu:WorkRoot"] = WorkRoot,
            ["OpenTofu:CancelGracePeriod"] = "00:00:10",
            ["Provisioning:SandboxStateRoot"] = StateRoot,
            ["Provisioning:DriftInterval"] = "00:00:00",
        }.Concat(settings ?? new Dictionary<string, string?>()).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value))
        {
            TestServices = collection =>
            {
                collection.AddSingleton<IBootstrapTokenSource>(provider =>
                    new RecordingBootstrapTokens(ActivatorUtilities.CreateInstance<EnrollmentBootstrapTokens>(provider), Tokens));
                services?.Invoke(collection);
            },
        };
        _ = Portal.Services; // starts the host: migrations, the job engine
    }

    public static async Task<WorkspaceWorld> StartAsync(bool runWorkers, IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateMigratedDatabaseAsync("ws");
        return new WorkspaceWorld(database, server.ConnectionString(database), runWorkers, settings, services);
    }

    public T Get<T>() where T : notnull => Portal.Services.GetRequiredService<T>();

    public WorkspaceCommands Commands => Get<WorkspaceCommands>();
    public WorkspaceStore Store => Get<WorkspaceStore>();

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task<Guid> NewTenantAsync(string slug)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<Guid>(
            "insert into tenants (parent_id, slug, name, domain) values (null, @slug, @slug, @domain) returning id",
            new { slug, domain = $"{slug}.{TestSettings.BaseDomain}" });
    }

    public async Task<Guid> NewAccountAsync(Guid tenantId, string provider = "sandbox", string status = "verified", string? name = null)
    {
        await using var connection = await OpenAsync();
        var suffix = Guid.NewGuid().ToString("n")[..10];
        return await connection.ExecuteScalarAsync<Guid>("""
            insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status)
            values (@tenantId, @provider::cloud_provider, @name, @reference, @roleArn, @externalId, @status::cloud_account_status) returning id
            """, new
        {
            tenantId,
            provider,
            name = name ?? $"{provider}-{suffix}",
            reference = $"ref-{suffix}",
            roleArn = provider == "sandbox" ? "" : $"arn:aws:iam::123456789012:role/cogrion-{suffix}",
            externalId = $"ext-{suffix}",
            status,
        });
    }

    /// <summary>A new user with the operator role in the tenant.</summary>
    public async Task<TestUser> OperatorOfAsync(Guid tenant, string name)
    {
        await using var connection = await OpenAsync();
        var id = await connection.ExecuteScalarAsync<Guid>(
            "insert into users (subject, username, email, email_verified) values (@s, @name, @email, true) returning id",
            new { s = "sub-" + name, name, email = name + "@example.com" });
        await connection.ExecuteAsync("insert into tenant_memberships (tenant_id, user_id, role) values (@tenant, @id, 'operator'::tenant_role)",
            new { tenant, id });
        return new TestUser(id, name);
    }

    public static NewWorkspace Valid(Guid accountId, string name, string cidr = "10.40.0.0/16", string region = "sandbox-local-1",
        ApprovalMode approval = ApprovalMode.Manual) => new()
        {
            CloudAccountId = accountId,
            Region = region,
            Name = name,
            NetworkCidr = cidr,
            KubernetesVersion = KubernetesTestVersions.Newest(),
            NodePools = [new NodePoolInput("default", "m6i.large", 1, 3)],
            Database = new DatabaseInput("postgres", "small"),
            ApprovalMode = approval,
        };

    /// <summary>
    /// Settings of a worker Portal process (<see cref="StartWorkerAsync"/>) that may be SIGKILLed: leases of seconds and a quick recovery
    /// sweep, so a dead worker's run is found in seconds; <paramref name="sandboxSpeed"/> slow enough to be killed mid-apply. A test adds
    /// its own to the dictionary.
    /// </summary>
    public Dictionary<string, string?> CrashableWorkerSettings(double sandboxSpeed) => new()
    {
        ["OpenTofu:WorkRoot"] = WorkRoot,
        ["OpenTofu:SandboxSpeed"] = sandboxSpeed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["OpenTofu:CancelGracePeriod"] = "00:00:03",
        ["Provisioning:SandboxStateRoot"] = StateRoot,
        ["Provisioning:DriftInterval"] = "00:00:00",
        ["Provisioning:RecoveryInterval"] = "00:00:01",
        ["Jobs:PollInterval"] = "00:00:01",
        ["Jobs:LeaseDuration"] = "00:00:03",
        ["Jobs:HeartbeatInterval"] = "00:00:01",
        ["Jobs:ReaperInterval"] = "00:00:01",
    };

    /// <summary>
    /// A Portal process on this world's database and machine, to run its jobs (start the world with <c>runWorkers: false</c>). Nobody
    /// signs in to it: its identity provider's address is a closed port.
    /// </summary>
    public Task<PortalProcess> StartWorkerAsync(IDictionary<string, string?> settings) =>
        PortalProcess.StartAsync(PortalProcess.NextBaseUrl(), ConnectionString, "http://127.0.0.1:9", settings);

    /// <summary>Waits until the tenant's workspace of that name has the status, and returns it.</summary>
    public Task<Workspace> WorkspaceWithStatusAsync(Guid tenantId, string name, WorkspaceStatus status) =>
        Eventually.ValueAsync(async () => (await Store.FindByNameAsync(tenantId, name, default))!, w => w.Status == status,
            $"workspace {name} {status.ToText()}");

    /// <summary>A run's log as the workspace page shows it: its jobs' lines, in order.</summary>
    public async Task<string> RunLogAsync(WorkspaceRun run)
    {
        await using var connection = await OpenAsync();
        return string.Join('\n',
            await connection.QueryAsync<string>("select line from job_logs where job_id = any(@ids) order by id",
            new { ids = run.JobIds.ToArray() }));
    }

    public async Task<long> CountAsync(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    public async Task<IEnumerable<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<T>(sql, parameters)).ToList();
    }

    public async Task<T?> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<T>(sql, parameters);
    }

    public async ValueTask DisposeAsync()
    {
        await Portal.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await (await PostgresServer.GetAsync()).DropDatabaseAsync(database);
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The real enrollment, with a note of each token it handed out (test only).</summary>
public sealed class RecordingBootstrapTokens(IBootstrapTokenSource inner, List<string> tokens) : IBootstrapTokenSource
{
    public async Task<string> MintAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken)
    {
        var token = await inner.MintAsync(tenantId, workspaceId, cancellationToken);
        lock (tokens) tokens.Add(token);
        return token;
    }
}
