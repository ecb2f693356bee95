using System.Text.Json;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Input;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces;

/// <summary>A workspace in a list: what the dashboard shows, agent health included.</summary>
public sealed record WorkspaceSummary(Workspace Workspace, string AccountName, int ActiveAgents, DateTimeOffset? AgentLastSeenAt,
    WorkspaceRun? ActiveRun);

/// <summary>Reads of a tenant's workspaces and runs. Every query takes the tenant.</summary>
public sealed class WorkspaceStore(NpgsqlDataSource dataSource)
{
    internal const string WorkspaceColumns = """
        w.id, w.tenant_id, w.name, w.cloud_account_id, w.provider::text as provider, w.region, w.network_cidr::text as network_cidr,
        w.kubernetes_version, w.node_pools::text as node_pools, w.use_karpenter, w.database::text as database, w.approval_mode,
        w.status::text as status, w.status_reason, w.outputs::text as outputs, w.created_by, w.created_at, w.updated_at
        """;

    // A run is shown as its ledger wrote it, with the state of the job that runs it now: a run still
    // working whose job has ended lost its worker, and RunRecovery ends what that worker left running
    // before it fails the run (ADR 0061); until then the run holds the workspace.
    internal const string RunColumns = """
        r.id, r.workspace_id, r.kind, r.status, r.stage, r.plan_summary::text as plan_summary, r.error, r.workspace_state,
        r.stage_timings::text as stage_timings, r.plan_job_id, r.apply_job_id, r.requested_by, r.approved_by, r.created_at, r.finished_at,
        r.state_lock::text as state_lock, r.worker_lost_at, j.state as job_state, r.kubernetes_version
        """;

    internal const string RunFrom = "workspace_runs r left join jobs j on j.id = coalesce(r.apply_job_id, r.plan_job_id)";

    internal sealed record WorkspaceRow(
        Guid Id, Guid TenantId, string Name, Guid CloudAccountId, string Provider, string Region, string NetworkCidr, string KubernetesVersion,
        string NodePools, bool UseKarpenter, string? Database, string ApprovalMode, string Status, string? StatusReason, string? Outputs,
        string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public Workspace ToWorkspace()
            => new(Id, TenantId, Name, CloudAccountId, CloudProviderText.Parse(Provider), Region, NetworkCidr, KubernetesVersion,
            JsonSerializer.Deserialize<List<NodePoolInput>>(NodePools, WorkspaceRun.Json) ?? [], UseKarpenter,
            Database is null ? null : JsonSerializer.Deserialize<DatabaseInput>(Database, WorkspaceRun.Json),
            EnumText.Parse<ApprovalMode>(ApprovalMode), EnumText.Parse<WorkspaceStatus>(Status), StatusReason,
            Outputs is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(Outputs, WorkspaceRun.Json),
            CreatedBy, CreatedAt, UpdatedAt);
    }

    internal sealed record RunRow(
        Guid Id, Guid WorkspaceId, string Kind, string Status, string? Stage, string? PlanSummary, string? Error, string? WorkspaceState,
        string StageTimings, long? PlanJobId, long? ApplyJobId, string RequestedBy, string? ApprovedBy, DateTimeOffset CreatedAt,
            DateTimeOffset? FinishedAt,
        string? StateLock, DateTimeOffset? WorkerLostAt, string? JobState, string? KubernetesVersion)
    {
        public WorkspaceRun ToRun() => new(Id, WorkspaceId, EnumText.Parse<RunKind>(Kind), EnumText.Parse<RunStatus>(Status), Stage,
            PlanSummary is null ? null : JsonSerializer.Deserialize<RunPlan>(PlanSummary, WorkspaceRun.Json), Error, WorkspaceState,
            JsonSerializer.Deserialize<List<StageTiming>>(StageTimings, WorkspaceRun.Json) ?? [], PlanJobId, ApplyJobId, RequestedBy, ApprovedBy,
                CreatedAt, FinishedAt,
            StateLock is null ? null : JsonSerializer.Deserialize<TofuStateLock>(StateLock, WorkspaceRun.Json), WorkerLostAt, JobState,
            KubernetesVersion);
    }

    private sealed record SummaryRow(Guid Id, string AccountName, int ActiveAgents, DateTimeOffset? AgentLastSeenAt);

    /// <summary>The tenant's workspaces across providers, destroyed ones last and only if asked for.</summary>
    public async Task<IReadOnlyList<WorkspaceSummary>> ListAsync(Guid tenantId, bool includeDestroyed, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var workspaces = (await connection.QueryAsync<WorkspaceRow>(new CommandDefinition($"""
            select {WorkspaceColumns} from workspaces w
            where w.tenant_id = @tenantId and (@includeDestroyed or w.status <> 'destroyed')
            order by w.status = 'destroyed', w.name
            """, new { tenantId, includeDestroyed }, cancellationToken: cancellationToken))).Select(r => r.ToWorkspace()).ToList();
        var extras = (await connection.QueryAsync<SummaryRow>(new CommandDefinition("""
            select w.id, a.name as account_name,
                   (select count(*)::int from agents g where g.tenant_id = w.tenant_id and g.workspace_id = w.id and g.status = 'active') as active_agents,
                   (select max(g.last_seen_at) from agents g where g.tenant_id = w.tenant_id and g.workspace_id = w.id and g.status = 'active') as agent_last_seen_at
            from workspaces w join cloud_accounts a on a.id = w.cloud_account_id and a.tenant_id = w.tenant_id
            where w.tenant_id = @tenantId
            """, new { tenantId }, cancellationToken: cancellationToken))).ToDictionary(r => r.Id);
        var active = (await connection.QueryAsync<RunRow>(new CommandDefinition($"""
            select {RunColumns} from {RunFrom}
            where r.tenant_id = @tenantId and r.status = any(@active)
            """, new { tenantId, active = RunStatusText.Keys(RunStatusText.Active) }, cancellationToken: cancellationToken))).Select(r => r.ToRun())
            .Where(r => r.IsActive).GroupBy(r => r.WorkspaceId).ToDictionary(g => g.Key, g => g.OrderByDescending(r => r.CreatedAt).First());
        return workspaces.Select(w =>
        {
            var extra = extras.GetValueOrDefault(w.Id);
            return new WorkspaceSummary(w, extra?.AccountName ?? "", extra?.ActiveAgents ?? 0, extra?.AgentLastSeenAt,
                active.GetValueOrDefault(w.Id));
        }).ToList();
    }

    /// <summary>The live workspace of this name (a destroyed one only if no live one has the name).</summary>
    public async Task<Workspace?> FindByNameAsync(Guid tenantId, string name, CancellationToken cancellationToken)
    {
        // A circuit navigates without an HTTP request: the route value reaches here unchecked.
        if (!InputText.IsStorable(name)) return null;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<WorkspaceRow>(new CommandDefinition($"""
            select {WorkspaceColumns} from workspaces w where w.tenant_id = @tenantId and w.name = @name
            order by w.status = 'destroyed', w.created_at desc limit 1
            """, new { tenantId, name }, cancellationToken: cancellationToken));
        return row?.ToWorkspace();
    }

    public static async Task<Workspace?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId, Guid workspaceId,
        bool forUpdate, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<WorkspaceRow>(new CommandDefinition($"""
            select {WorkspaceColumns} from workspaces w where w.tenant_id = @tenantId and w.id = @workspaceId {(forUpdate ? "for update" : "")}
            """, new { tenantId, workspaceId }, transaction, cancellationToken: cancellationToken));
        return row?.ToWorkspace();
    }

    public async Task<IReadOnlyList<WorkspaceRun>> RunsAsync(Guid tenantId, Guid workspaceId, int take, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<RunRow>(new CommandDefinition($"""
            select {RunColumns} from {RunFrom}
            where r.tenant_id = @tenantId and r.workspace_id = @workspaceId
            order by r.created_at desc limit @take
            """, new { tenantId, workspaceId, take }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRun()).ToList();
    }

    public static async Task<WorkspaceRun?> FindRunAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId, Guid runId,
        bool forUpdate, CancellationToken cancellationToken)
    {
        // The lock, when asked for, is on the run row only (the jobs row is read, not locked).
        var row = await connection.QuerySingleOrDefaultAsync<RunRow>(new CommandDefinition($"""
            select {RunColumns} from {RunFrom}
            where r.tenant_id = @tenantId and r.id = @runId {(forUpdate ? "for update of r" : "")}
            """, new { tenantId, runId }, transaction, cancellationToken: cancellationToken));
        return row?.ToRun();
    }

    /// <summary>The workspace's most recent run, if it has any.</summary>
    public static async Task<WorkspaceRun?> LatestRunAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId,
        Guid workspaceId, CancellationToken cancellationToken)
    {
        var row = await connection.QueryFirstOrDefaultAsync<RunRow>(new CommandDefinition($"""
            select {RunColumns} from {RunFrom}
            where r.tenant_id = @tenantId and r.workspace_id = @workspaceId
            order by r.created_at desc limit 1
            """, new { tenantId, workspaceId }, transaction, cancellationToken: cancellationToken));
        return row?.ToRun();
    }

    /// <summary>The ranges in use in an account and region. Text that cannot be stored names no region: none (the rules refuse it).</summary>
    public static async Task<IReadOnlyList<string>> NetworksInAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId,
        Guid accountId, string region, CancellationToken cancellationToken) =>
        !InputText.IsStorable(region) ? [] : (await connection.QueryAsync<string>(new CommandDefinition("""
            select network_cidr::text from workspaces
            where tenant_id = @tenantId and cloud_account_id = @accountId and region = @region and status <> 'destroyed'
            """, new { tenantId, accountId, region }, transaction, cancellationToken: cancellationToken))).ToList();

    /// <summary>Only a name the rules accept is looked up: the wizard asks while the person types, and what they typed may not be storable.</summary>
    public static async Task<bool> NameTakenAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId, string name,
        CancellationToken cancellationToken) =>
        WorkspaceRules.CheckName(name) is null && await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from workspaces where tenant_id = @tenantId and name = @name and status <> 'destroyed')",
            new { tenantId, name }, transaction, cancellationToken: cancellationToken));

    /// <summary>The checks the wizard runs step by step, against the same rules the creation uses.</summary>
    public async Task<(IReadOnlyList<string> Networks, bool NameTaken)> RuleInputsAsync(Guid tenantId, Guid? accountId, string? region, string? name,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var networks = accountId is { } a && region is { } r ? await NetworksInAsync(connection, null, tenantId, a, r, cancellationToken) : [];
        var taken = !string.IsNullOrEmpty(name) && await NameTakenAsync(connection, null, tenantId, name, cancellationToken);
        return (networks, taken);
    }
}
