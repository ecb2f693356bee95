using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces.Apps;

public enum AppDesiredState { Installed, Removing, Removed }

/// <summary>An app installed in a workspace: the desired state the Portal asked for and what the agent last reported.</summary>
public sealed record WorkspaceApp(
    Guid Id,
    Guid TenantId,
    Guid WorkspaceId,
    string App,
    string Namespace,
    AppDesiredState DesiredState,
    string ChartVersion,
    JsonObject Values,
    int Revision,
    DateTimeOffset RevisionChangedAt,
    AppReport? Report,
    DateTimeOffset? ReportedAt,
    AppFailure? LastFailure,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    IReadOnlyList<string> SecretPaths,
    AppStuckRelease? Stuck = null);

/// <summary>A release seen stuck in a pending-* Helm state, and when the Portal asked the agent to have Flux unlock and retry it.</summary>
public sealed record AppStuckRelease(string Status, DateTimeOffset Since, DateTimeOffset? UnlockRequestedAt);

/// <summary>One desired state an app had (install, upgrade or rollback), for the rollback list.</summary>
/// <remarks>SecretPaths: the secret values it took from their Secrets (their content is whatever was last delivered).</remarks>
public sealed record AppRevision(int Revision, string Action, string ChartVersion, JsonObject Values, string CreatedBy, DateTimeOffset CreatedAt,
    IReadOnlyList<string> SecretPaths);

/// <summary>An installed app with its status, as pages and the API show it.</summary>
public sealed record WorkspaceAppView(WorkspaceApp App, CatalogApp Definition, AppStatusView Status);

/// <summary>
/// Installs, upgrades, rolls back and removes catalog apps by queueing signed agent commands (pull only:
/// the Portal never reaches the cluster), keeps each app's desired revisions, and takes in what the
/// agent reports. Every change is audited in the transaction that makes it.
/// </summary>
public sealed partial class WorkspaceApps(
    NpgsqlDataSource dataSource,
    AppCatalog catalog,
    AgentRegistry agents,
    AgentCommandQueue commands,
    AuditLog audit,
    AppSecretValues secretValues,
    IOptions<AgentApiOptions> agentOptions,
    IOptions<Infrastructure.OpenTofu.ProvisioningOptions> provisioning,
    TimeProvider time,
    ILogger<WorkspaceApps> logger)
{
    public const int RollbackChoices = 10;

    private const string Columns = """
        id, tenant_id, workspace_id, app, namespace, desired_state, chart_version, "values"::text as values_json, revision, revision_changed_at,
        report::text as report_json, reported_at, last_failure_reason, last_failure_message, last_failure_version, last_failure_at,
        created_by, created_at, secret_paths, stuck_status, stuck_since, unlock_requested_at
        """;

    public async Task<IReadOnlyList<WorkspaceAppView>> ListAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<AppRow>(new CommandDefinition(
            $"select {Columns} from workspace_apps where tenant_id = @tenantId and workspace_id = @workspaceId and desired_state <> 'removed' " +
                $"order by app",
            new { tenantId, workspaceId }, cancellationToken: cancellationToken));
        var lastSeen = await AgentLastSeenAsync(tenantId, workspaceId, cancellationToken);
        return rows.Select(r => r.ToApp()).Select(a => View(a, lastSeen)).OfType<WorkspaceAppView>().ToList();
    }

    /// <summary>
    /// The apps of every workspace of a tenant, in one query (the workspace list and the dashboard), each with its status
    /// against its workspace's active agent's last report time.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, IReadOnlyList<WorkspaceAppView>>> ListForTenantAsync(Guid tenantId,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<AppRow>(new CommandDefinition(
            $"select {Columns}, (select max(g.last_seen_at) from agents g where g.tenant_id = a.tenant_id and g.workspace_id = a.workspace_id " +
                "and g.status = 'active') as agent_last_seen from workspace_apps a where a.tenant_id = @tenantId and a.desired_state <> 'removed' " +
                "order by a.app",
            new { tenantId }, cancellationToken: cancellationToken));
        return rows.GroupBy(r => r.WorkspaceId).ToDictionary(g => g.Key,
            g => (IReadOnlyList<WorkspaceAppView>)g.Select(r => View(r.ToApp(), r.AgentLastSeen)).OfType<WorkspaceAppView>().ToList());
    }

    /// <summary>The app's live installation in this tenant's workspace, or null (another tenant's id is "not found").</summary>
    public async Task<WorkspaceAppView?> FindAsync(Guid tenantId, Guid workspaceId, string app, CancellationToken cancellationToken)
    {
        var found = await FindRowAsync(tenantId, workspaceId, app, cancellationToken);
        return found is null ? null : View(found, await AgentLastSeenAsync(tenantId, workspaceId, cancellationToken));
    }

    public async Task<IReadOnlyList<AppRevision>> RevisionsAsync(Guid tenantId, Guid appId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<RevisionRow>(new CommandDefinition("""
            select r.revision, r.action, r.chart_version, r."values"::text as values_json, r.created_by, r.created_at, r.secret_paths
            from workspace_app_revisions r join workspace_apps a on a.id = r.app_id
            where a.tenant_id = @tenantId and r.app_id = @appId and r.cancelled_at is null
            order by r.revision desc limit @limit
            """, new { tenantId, appId, limit = RollbackChoices }, cancellationToken: cancellationToken));
        return rows.Select(r => new AppRevision(r.Revision, r.Action, r.ChartVersion, Parse(r.ValuesJson), r.CreatedBy, r.CreatedAt,
            r.SecretPaths)).ToList();
    }

    /// <summary>The app's resources against the workspace cluster's free capacity, as its agent last reported it.</summary>
    public async Task<AppCapacityCheck> CapacityAsync(Guid tenantId, Guid workspaceId, CatalogApp app, CancellationToken cancellationToken) =>
        AppCapacity.Check(app, (await ActiveAgentAsync(tenantId, workspaceId, cancellationToken))?.ParsedInventory());

    /// <summary>Checks a chart version and values for an app without changing anything: every problem at once.</summary>
    public static FieldErrors Check(CatalogApp app, string chartVersion, JsonObject values)
    {
        var errors = AppValues.Validate(app, values);
        if (!app.Chart.Versions.Contains(chartVersion))
            errors.Add("chartVersion",
                $"Chart {app.Chart.Name} {chartVersion} is not supported; choose one of {string.Join(", ", app.Chart.Versions)}.");
        return errors;
    }

    /// <param name="secrets">The app's secret values, each sealed to the workspace agent's key for its field's Secret (none: the chart's
    /// own).</param>
    public Task<CommandResult<WorkspaceApp>> InstallAsync(Guid tenantId, Workspace workspace, string appId, string? chartVersion,
        JsonObject? overrides, IReadOnlyList<SealedSecret>? secrets,
        Actor actor, CancellationToken cancellationToken) =>
        InstallAsync(tenantId, workspace, appId, chartVersion, overrides, secrets, AppDatabaseChoice.Bundled, actor, cancellationToken);

    /// <param name="database">The workspace's own database (<see cref="AppDatabase"/>: the chart pointed at it, its bundled one off, the
    /// role's password one of <paramref name="secrets"/>) or the chart's bundled one.</param>
    public async Task<CommandResult<WorkspaceApp>> InstallAsync(Guid tenantId, Workspace workspace, string appId, string? chartVersion,
        JsonObject? overrides, IReadOnlyList<SealedSecret>? secrets, AppDatabaseChoice database,
        Actor actor, CancellationToken cancellationToken)
    {
        secrets ??= [];
        if (catalog.Find(appId) is not { } app) return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("app",
            $"There is no app '{appId}' in the catalog."));
        var version = chartVersion ?? app.Chart.Latest;
        var values = AppValues.Merge(app.Defaults, overrides);
        var databaseErrors = new FieldErrors();
        if (database == AppDatabaseChoice.Workspace)
        {
            var plan = AppDatabase.Plan(app, AppDatabase.Of(workspace));
            if (plan is null) databaseErrors.Add("database", AppDatabase.Unavailable(app, AppDatabase.Of(workspace)) ?? "Not possible.");
            else
            {
                // Over the form's values: the connection is the workspace database's, whatever was typed for it.
                values = AppValues.Merge(values, plan.Values);
                if (!AppSecretValues.Paths(app, secrets).Contains(plan.PasswordPath, StringComparer.Ordinal))
                    databaseErrors.Add("database", $"Type the password of the role {plan.User} (the one in CREATE ROLE) into the field " +
                        $"{plan.PasswordPath}: it is sealed to the agent like every secret value.");
            }
        }
        var errors = Check(app, version, values);
        Merge(errors, databaseErrors);
        if (await FindRowAsync(tenantId, workspace.Id, app.Id, cancellationToken) is not null)
            errors.Add("app", $"{app.DisplayName} is already installed in {workspace.Name}; upgrade or remove it instead.");
        var agent = await ActiveAgentAsync(tenantId, workspace.Id, cancellationToken);
        if (agent is null) errors.Add("workspace", $"Workspace {workspace.Name} has no active Cluster Agent to install through.");
        else
        {
            errors.AddIf("capacity", AppCapacity.Check(app, agent.ParsedInventory()).Shortfall);
            Merge(errors, await secretValues.CheckAsync(tenantId, workspace.Id, app, secrets, cancellationToken));
        }
        if (!errors.IsEmpty) return CommandResult<WorkspaceApp>.Invalid(errors);
        var secretPaths = AppSecretValues.Paths(app, secrets);

        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            try
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    insert into workspace_apps (id, tenant_id, workspace_id, app, namespace, desired_state, chart_version, "values", revision,
                                                revision_changed_at, created_by, created_at, secret_paths)
                    values (@id, @tenantId, @workspaceId, @app, @ns, 'installed', @version, @values::jsonb, 1, @now, @createdBy, @now,
                            @secretPaths)
                    """, new
                {
                    secretPaths = secretPaths.ToArray(),
                    id,
                    tenantId,
                    workspaceId = workspace.Id,
                    app = app.Id,
                    ns = app.Id,
                    version,
                    values = values.ToJsonString(),
                    now,
                    createdBy = actor.Name ?? actor.Id
                }, transaction, cancellationToken: cancellationToken));
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("app", $"{app.DisplayName} is already installed in {workspace.Name}."));
            }
            await AddRevisionAsync(connection, transaction, id, 1, "install", version, values, secretPaths, actor, now, cancellationToken);
            await audit.RecordAsync(new AuditEntry(actor, "app.install_requested", tenantId, "workspace_app", id.ToString(),
                new { workspace = workspace.Name, app = app.Id, chartVersion = version, revision = 1, secretValues = secretPaths }), transaction,
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        var agentId = agent!.Id;
        await commands.EnqueueAsync(new NewAgentCommand(tenantId, agentId, CommandTypes.EnsureNamespace,
            JsonSerializer.SerializeToNode(AppManifests.Namespace(app, app.Id), ProtocolJson.Default.EnsureNamespacePayload)!.AsObject(),
            $"app:{id}:namespace"), actor, cancellationToken);
        // The agent runs its commands in order: the namespace, then each Secret, then the release that reads them.
        await secretValues.DeliverAsync(tenantId, workspace.Id, secrets, actor, cancellationToken);
        await EnqueueReleaseAsync(tenantId, agentId, app, id, version, values, 1, secretPaths, now, actor, cancellationToken);
        return CommandResult<WorkspaceApp>.Ok((await FindRowAsync(tenantId, workspace.Id, app.Id, cancellationToken))!);
    }

    /// <summary>
    /// A new desired state: another supported chart version and/or values laid over the current ones. In a workspace whose
    /// approval mode is manual it waits for an operator (<see cref="ApproveUpgradeAsync"/>), and the app is returned unchanged.
    /// </summary>
    /// <param name="secrets">Secret values to set or rotate (sealed as for an install); the ones not given keep their Secret.</param>
    public async Task<CommandResult<WorkspaceApp>> UpgradeAsync(Guid tenantId, Workspace workspace, string appId, string? chartVersion,
        JsonObject? overrides, IReadOnlyList<SealedSecret>? secrets,
        Actor actor, CancellationToken cancellationToken)
    {
        secrets ??= [];
        if (catalog.Find(appId) is not { } app
            || await FindRowAsync(tenantId, workspace.Id, appId, cancellationToken) is not { DesiredState: AppDesiredState.Installed } current)
            return CommandResult<WorkspaceApp>.NotFound();
        var version = chartVersion ?? current.ChartVersion;
        var values = AppValues.Merge(current.Values, overrides);
        var errors = Check(app, version, values);
        Merge(errors, await secretValues.CheckAsync(tenantId, workspace.Id, app, secrets, cancellationToken));
        if (!errors.IsEmpty) return CommandResult<WorkspaceApp>.Invalid(errors);
        var secretPaths = current.SecretPaths.Union(AppSecretValues.Paths(app, secrets)).Order(StringComparer.Ordinal).ToList();
        if (workspace.ApprovalMode == ApprovalMode.Manual)
            return await RequestApprovalAsync(tenantId, workspace, app, current, version, values, secretPaths, secrets, actor, cancellationToken);
        return await ChangeAsync(tenantId, workspace, app, current, "upgrade", version, values, secretPaths, actor, cancellationToken,
            secrets: secrets);
    }

    /// <summary>Back to one of the last ten desired states, in one action (itself a new revision, so it can be undone too).</summary>
    public async Task<CommandResult<WorkspaceApp>> RollbackAsync(Guid tenantId, Workspace workspace, string appId, int revision, Actor actor,
        CancellationToken cancellationToken)
    {
        if (catalog.Find(appId) is not { } app
            || await FindRowAsync(tenantId, workspace.Id, appId, cancellationToken) is not { DesiredState: AppDesiredState.Installed } current)
            return CommandResult<WorkspaceApp>.NotFound();
        var target = (await RevisionsAsync(tenantId, current.Id, cancellationToken)).FirstOrDefault(r => r.Revision == revision);
        if (target is null)
            return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("revision",
                $"Revision {revision} is not one of the last {RollbackChoices} of {app.DisplayName}."));
        if (target.Revision == current.Revision)
            return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("revision", $"Revision {revision} is the current desired state."));
        return await ChangeAsync(tenantId, workspace, app, current, "rollback", target.ChartVersion, target.Values, target.SecretPaths, actor,
            cancellationToken, rolledBackTo: target.Revision);
    }

    /// <summary>
    /// Removes the app: its namespace and everything in it go, its data (persistent volumes) kept. <paramref name="confirmation"/>
    /// must be the app's id, typed.
    /// </summary>
    public Task<CommandResult<WorkspaceApp>> RemoveAsync(Guid tenantId, Workspace workspace, string appId, string? confirmation, Actor actor,
        CancellationToken cancellationToken) =>
        RemoveAsync(tenantId, workspace, appId, confirmation, deleteData: false, actor, cancellationToken);

    /// <summary>
    /// Removes the app: its namespace and everything in it go. Its persistent volumes are kept (reclaim policy Retain, left
    /// Released) unless <paramref name="deleteData"/>. <paramref name="confirmation"/> must be the app's id, typed.
    /// </summary>
    public async Task<CommandResult<WorkspaceApp>> RemoveAsync(Guid tenantId, Workspace workspace, string appId, string? confirmation,
        bool deleteData, Actor actor, CancellationToken cancellationToken)
    {
        if (await FindRowAsync(tenantId, workspace.Id, appId, cancellationToken) is not { DesiredState: not AppDesiredState.Removed } current)
            return CommandResult<WorkspaceApp>.NotFound();
        if (!string.Equals(confirmation?.Trim(), current.App, StringComparison.Ordinal))
            return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("confirmation",
                $"Type {current.App} to confirm: the namespace {current.Namespace} and everything in it will be deleted."));
        if (await ActiveAgentAsync(tenantId, workspace.Id, cancellationToken) is not { } agent)
            return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("workspace",
                $"Workspace {workspace.Name} has no active Cluster Agent to remove it through."));
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "update workspace_apps set desired_state = 'removing' where id = @Id and tenant_id = @tenantId",
                new { current.Id, tenantId }, transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(actor, "app.remove_requested", tenantId, "workspace_app", current.Id.ToString(),
                new { workspace = workspace.Name, app = current.App, @namespace = current.Namespace, deleteData }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await commands.EnqueueAsync(new NewAgentCommand(tenantId, agent.Id, CommandTypes.DeleteNamespace,
            JsonSerializer.SerializeToNode(new DeleteNamespacePayload(current.Namespace, deleteData),
                ProtocolJson.Default.DeleteNamespacePayload)!.AsObject(),
            $"app:{current.Id}:remove"), actor, cancellationToken);
        return CommandResult<WorkspaceApp>.Ok((await FindRowAsync(tenantId, workspace.Id, appId, cancellationToken))!);
    }

    /// <summary>
    /// Takes in a heartbeat's app reports for the agent's workspace: stores each app's report, keeps a
    /// newly reported failure (audited once), and marks a removed app's namespace gone.
    /// </summary>
    public async Task IngestAsync(Guid agentId, Guid tenantId, Guid workspaceId, ClusterInventory inventory, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<AppRow>(new CommandDefinition(
            $"select {Columns} from workspace_apps where tenant_id = @tenantId and workspace_id = @workspaceId and desired_state <> 'removed'",
            new { tenantId, workspaceId }, cancellationToken: cancellationToken))).Select(r => r.ToApp()).ToList();
        var reports = inventory.Apps ?? [];
        foreach (var app in rows)
        {
            var report = reports.FirstOrDefault(r => r.Namespace == app.Namespace && r.Release == app.App);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (app.DesiredState == AppDesiredState.Removing && inventory.Namespaces.All(n => n.Name != app.Namespace))
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "update workspace_apps set desired_state = 'removed', removed_at = @now, report = null, reported_at = @now where id = @Id",
                    new { app.Id, now }, transaction, cancellationToken: cancellationToken));
                await audit.RecordAsync(new AuditEntry(Actor.Agent(agentId), "app.removed", tenantId, "workspace_app", app.Id.ToString(),
                    new { app = app.App, @namespace = app.Namespace }), transaction, cancellationToken);
                await NotifyAsync(connection, transaction, tenantId, workspaceId, cancellationToken);
            }
            else
            {
                var failure = report is null ? null : AppStatus.FailureIn(report, now);
                // Pages watching the workspace re-read when what they show changed (heartbeats repeat unchanged reports).
                var reportJson = report is null ? null : JsonSerializer.Serialize(report, ProtocolJson.Default.AppReport);
                var oldJson = app.Report is null ? null : JsonSerializer.Serialize(app.Report, ProtocolJson.Default.AppReport);
                if (reportJson != oldJson) await NotifyAsync(connection, transaction, tenantId, workspaceId, cancellationToken);
                var newFailure = failure is not null && (app.LastFailure is null || app.LastFailure.Message != failure.Message);
                await connection.ExecuteAsync(new CommandDefinition("""
                    update workspace_apps set report = @report::jsonb, reported_at = @now,
                        last_failure_reason = case when @newFailure then @reason else last_failure_reason end,
                        last_failure_message = case when @newFailure then @message else last_failure_message end,
                        last_failure_version = case when @newFailure then @version else last_failure_version end,
                        last_failure_at = case when @newFailure then @at else last_failure_at end
                    where id = @Id
                    """, new
                {
                    app.Id,
                    now,
                    newFailure,
                    report = reportJson,
                    reason = failure?.Reason,
                    message = failure?.Message,
                    version = failure?.ChartVersion,
                    at = failure?.At,
                }, transaction, cancellationToken: cancellationToken));
                if (newFailure)
                {
                    await audit.RecordAsync(new AuditEntry(Actor.Agent(agentId), "app.failed", tenantId, "workspace_app", app.Id.ToString(),
                        new { app = app.App, reason = failure!.Reason, message = failure.Message, chartVersion = failure.ChartVersion }), transaction,
                            cancellationToken);
                    logger.LogWarning("App {App} in workspace {WorkspaceId} failed: {Reason}", app.App, workspaceId, failure.Reason);
                }
            }
            await transaction.CommitAsync(cancellationToken);
            if (report is not null) await WatchForStuckAsync(agentId, tenantId, app, report, now, cancellationToken);
        }
    }

    /// <summary>
    /// A release whose newest Helm record stays pending-* past <c>Provisioning:AppStuckPendingAfter</c> is stuck (a
    /// controller that died mid-action left Helm's lock): recorded and audited once, and the agent is asked to have Flux
    /// reconcile it, forced, which unlocks it and retries (Flux's remediation). Cleared, and audited, when it moves on.
    /// </summary>
    private async Task WatchForStuckAsync(Guid agentId, Guid tenantId, WorkspaceApp app, AppReport report, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var pending = report.ReleaseStatus?.StartsWith("pending-", StringComparison.Ordinal) == true;
        var since = report.ReleaseStatusSince ?? app.ReportedAt ?? now;
        if (!pending && app.Stuck is null) return;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!pending)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "update workspace_apps set stuck_status = null, stuck_since = null, unlock_requested_at = null where id = @Id",
                new { app.Id }, transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(Actor.Agent(agentId), "app.stuck_cleared", tenantId, "workspace_app", app.Id.ToString(),
                new { app = app.App, was = app.Stuck!.Status, releaseStatus = report.ReleaseStatus }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return;
        }
        if (now - since < provisioning.Value.AppStuckPendingAfter || app.Stuck?.UnlockRequestedAt is not null) return;
        // Two reports read at once (a heartbeat and a change report) must not both ask: the update is the guard.
        if (await connection.ExecuteAsync(new CommandDefinition(
            "update workspace_apps set stuck_status = @status, stuck_since = @since, unlock_requested_at = @now where id = @Id " +
                "and unlock_requested_at is null",
            new { app.Id, status = report.ReleaseStatus, since, now }, transaction, cancellationToken: cancellationToken)) == 0) return;
        await audit.RecordAsync(new AuditEntry(Actor.System("catalog"), "app.stuck_detected", tenantId, "workspace_app", app.Id.ToString(),
            new { app = app.App, releaseStatus = report.ReleaseStatus, since, action = "flux reconcile --force (unlock and retry)" }), transaction,
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogWarning("Release of {App} ({AppId}) stuck in {ReleaseStatus} since {Since}; asking the agent to have Flux unlock it", app.App,
            app.Id, report.ReleaseStatus, since);
        await commands.EnqueueAsync(new NewAgentCommand(tenantId, agentId, CommandTypes.ReconcileRelease,
            JsonSerializer.SerializeToNode(new ReconcileReleasePayload(app.Namespace, app.App, now.UtcDateTime.ToString("O")),
                ProtocolJson.Default.ReconcileReleasePayload)!.AsObject(),
            $"app:{app.Id}:unlock:{since.ToUnixTimeSeconds()}"), Actor.System("catalog"), cancellationToken);
    }

    private async Task<CommandResult<WorkspaceApp>> ChangeAsync(Guid tenantId, Workspace workspace, CatalogApp app, WorkspaceApp current,
        string action,
        string version, JsonObject values, IReadOnlyList<string> secretPaths, Actor actor, CancellationToken cancellationToken,
        int? rolledBackTo = null, IReadOnlyList<SealedSecret>? secrets = null)
    {
        if (await ActiveAgentAsync(tenantId, workspace.Id, cancellationToken) is not { } agent)
            return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("workspace", $"Workspace {workspace.Name} has no active Cluster Agent."));
        var now = time.GetUtcNow();
        int revision;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            // After the newest number ever used: a cancelled revision's number (and its command's idempotency key) is not reused.
            revision = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "select coalesce(max(revision), 0) + 1 from workspace_app_revisions where app_id = @Id",
                new { current.Id }, transaction, cancellationToken: cancellationToken));
            // The revision guard makes two concurrent changes one winner, not two commands for one revision.
            var changed = await connection.ExecuteAsync(new CommandDefinition("""
                update workspace_apps set chart_version = @version, "values" = @values::jsonb, revision = @revision, revision_changed_at = @now,
                                          secret_paths = @secretPaths
                where id = @Id and tenant_id = @tenantId and revision = @Revision_
                """, new
            {
                current.Id,
                tenantId,
                version,
                values = values.ToJsonString(),
                revision,
                now,
                Revision_ = current.Revision,
                secretPaths = secretPaths.ToArray()
            },
                transaction, cancellationToken: cancellationToken));
            if (changed == 0) return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("revision",
                "Someone changed this app meanwhile; reload and try again."));
            await AddRevisionAsync(connection, transaction, current.Id, revision, action, version, values, secretPaths, actor, now,
                cancellationToken);
            await audit.RecordAsync(new AuditEntry(actor, $"app.{action}_requested", tenantId, "workspace_app", current.Id.ToString(), new
            {
                workspace = workspace.Name,
                app = app.Id,
                fromChartVersion = current.ChartVersion,
                chartVersion = version,
                revision,
                rolledBackTo,
                changes = AppValues.Diff(current.Values, values).Select(c => c.Path).ToList(),
                secretValues = secretPaths,
                secretValuesSet = AppSecretValues.Paths(app, secrets ?? []),
            }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await secretValues.DeliverAsync(tenantId, workspace.Id, secrets ?? [], actor, cancellationToken);
        await EnqueueReleaseAsync(tenantId, agent.Id, app, current.Id, version, values, revision, secretPaths, now, actor, cancellationToken);
        return CommandResult<WorkspaceApp>.Ok((await FindRowAsync(tenantId, workspace.Id, app.Id, cancellationToken))!);
    }

    private Task EnqueueReleaseAsync(Guid tenantId, Guid agentId, CatalogApp app, Guid appId, string version, JsonObject values, int revision,
        IReadOnlyList<string> secretPaths, DateTimeOffset requestedAt, Actor actor, CancellationToken cancellationToken) =>
        commands.EnqueueAsync(new NewAgentCommand(tenantId, agentId, CommandTypes.ApplyManifest,
            JsonSerializer.SerializeToNode(AppManifests.Release(app, app.Id, version, values, revision, secretPaths, requestedAt),
                ProtocolJson.Default.ApplyManifestPayload)!.AsObject(),
            $"app:{appId}:revision:{revision}"), actor, cancellationToken);

    private static Task AddRevisionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid appId, int revision, string action,
        string version,
        JsonObject values, IReadOnlyList<string> secretPaths, Actor actor, DateTimeOffset now, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("""
            insert into workspace_app_revisions (app_id, revision, action, chart_version, "values", created_by, created_at, secret_paths)
            values (@appId, @revision, @action, @version, @values::jsonb, @createdBy, @now, @secretPaths)
            """, new
        {
            appId,
            revision,
            action,
            version,
            values = values.ToJsonString(),
            createdBy = actor.Name ?? actor.Id,
            now,
            secretPaths = secretPaths.ToArray()
        },
            transaction, cancellationToken: cancellationToken));

    private async Task<WorkspaceApp?> FindRowAsync(Guid tenantId, Guid workspaceId, string app, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<AppRow>(new CommandDefinition(
            $"select {Columns} from workspace_apps where tenant_id = @tenantId and workspace_id = @workspaceId and app = @app and desired_state <> " +
                $"'removed'",
            new { tenantId, workspaceId, app }, cancellationToken: cancellationToken));
        return row?.ToApp();
    }

    private async Task<AgentSummary?> ActiveAgentAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken) =>
        (await agents.ListForWorkspaceAsync(tenantId, workspaceId, cancellationToken)).FirstOrDefault(a => a.Status == "active");

    private async Task<DateTimeOffset?> AgentLastSeenAsync(Guid tenantId, Guid workspaceId, CancellationToken cancellationToken) =>
        (await ActiveAgentAsync(tenantId, workspaceId, cancellationToken))?.LastSeenAt;

    private WorkspaceAppView? View(WorkspaceApp app, DateTimeOffset? agentLastSeen) =>
        catalog.Find(app.App) is { } definition
            ? new WorkspaceAppView(app, definition, AppStatus.Derive(app, agentLastSeen, agentOptions.Value.OfflineAfter, time.GetUtcNow()))
            : null;

    private static JsonObject Parse(string json) => JsonNode.Parse(json) as JsonObject ?? [];

    private static Task NotifyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, Guid workspaceId,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(TenantChanges.NotifySql, new { tenantId, subjectId = workspaceId }, transaction,
            cancellationToken: cancellationToken));

    private static void Merge(FieldErrors into, FieldErrors from)
    {
        foreach (var (field, messages) in from.ToDictionary())
            foreach (var message in messages) into.Add(field, message);
    }

    private sealed class AppRow
    {
        public Guid Id { get; init; }
        public Guid TenantId { get; init; }
        public Guid WorkspaceId { get; init; }
        public string App { get; init; } = "";
        public string Namespace { get; init; } = "";
        public string DesiredState { get; init; } = "";
        public string ChartVersion { get; init; } = "";
        public string ValuesJson { get; init; } = "{}";
        public int Revision { get; init; }
        public DateTimeOffset RevisionChangedAt { get; init; }
        public string? ReportJson { get; init; }
        public DateTimeOffset? ReportedAt { get; init; }
        public string? LastFailureReason { get; init; }
        public string? LastFailureMessage { get; init; }
        public string? LastFailureVersion { get; init; }
        public DateTimeOffset? LastFailureAt { get; init; }
        public string CreatedBy { get; init; } = "";
        public DateTimeOffset CreatedAt { get; init; }
        public string[] SecretPaths { get; init; } = [];
        public string? StuckStatus { get; init; }
        public DateTimeOffset? StuckSince { get; init; }
        public DateTimeOffset? UnlockRequestedAt { get; init; }
        public DateTimeOffset? AgentLastSeen { get; init; }

        public WorkspaceApp ToApp() => new(Id, TenantId, WorkspaceId, App, Namespace, Enum.Parse<AppDesiredState>(DesiredState, ignoreCase: true),
            ChartVersion, Parse(ValuesJson), Revision, RevisionChangedAt,
            ReportJson is null ? null : JsonSerializer.Deserialize(ReportJson, ProtocolJson.Default.AppReport), ReportedAt,
            LastFailureMessage is null ? null
                : new AppFailure(LastFailureReason ?? "Failed", LastFailureMessage, LastFailureVersion, LastFailureAt ?? CreatedAt),
            CreatedBy, CreatedAt, SecretPaths,
            StuckStatus is null ? null : new AppStuckRelease(StuckStatus, StuckSince ?? CreatedAt, UnlockRequestedAt));
    }

    private sealed class RevisionRow
    {
        public int Revision { get; init; }
        public string Action { get; init; } = "";
        public string ChartVersion { get; init; } = "";
        public string ValuesJson { get; init; } = "{}";
        public string CreatedBy { get; init; } = "";
        public DateTimeOffset CreatedAt { get; init; }
        public string[] SecretPaths { get; init; } = [];
    }
}
