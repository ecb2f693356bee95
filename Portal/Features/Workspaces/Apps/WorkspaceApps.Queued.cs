using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Secrets;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces.Apps;

[JsonConverter(typeof(JsonStringEnumConverter<QueuedCommandState>))]
public enum QueuedCommandState { Waiting, Delivered, Expired }

/// <summary>What a queued command of an app is part of: the change a person asked for.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<QueuedAppAction>))]
public enum QueuedAppAction { Install, Upgrade, Rollback, Remove, Unlock, Secret }

/// <summary>
/// A command of an app that its agent has not answered yet: waiting (the agent has not taken it: it can be cancelled),
/// delivered (the agent has it; it runs or already ran, and cannot be withdrawn), or expired without ever reaching the agent.
/// </summary>
public sealed record QueuedAppCommand(
    Guid Id,
    string Type,
    QueuedAppAction Action,
    string Description,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? DeliveredAt,
    QueuedCommandState State)
{
    /// <summary>Secret writes go with the change they belong to; the others can be withdrawn until the agent takes them.</summary>
    public bool Cancellable => State != QueuedCommandState.Delivered && Action != QueuedAppAction.Secret;
}

public enum CancelOutcome { Cancelled, NotFound, Conflict }

/// <summary>What a cancel did: the commands withdrawn and what the app's desired state became, or why nothing was.</summary>
public sealed record CancelQueuedResult(CancelOutcome Outcome, string Message, IReadOnlyList<Guid> Cancelled)
{
    public static CancelQueuedResult NotFound() => new(CancelOutcome.NotFound, "No such queued command of this app.", []);
    public static CancelQueuedResult Conflict(string message) => new(CancelOutcome.Conflict, message, []);
}

/// <summary>
/// Queued actions (docs/catalog.md): while the agent is offline an install, upgrade, rollback or remove waits as signed
/// commands with an expiry. An operator can withdraw one until the agent takes it: the commands become 'cancelled'
/// (<see cref="CancelQueuedAsync"/>) only if still undelivered, in the statement that checks it, so the agent's long poll
/// (which sets delivered_at on pending rows) and a cancel never both win. The app's desired state follows in the same
/// transaction, audited: a cancelled install leaves the app not installed, a cancelled upgrade or rollback puts back the
/// revision before it, a cancelled remove keeps the app.
/// </summary>
public sealed partial class WorkspaceApps
{
    private const string QueuedColumns = """
        c.id, c.type, c.idempotency_key, c.payload::text as payload_json, c.status, c.created_at, c.created_by, c.expires_at, c.delivered_at
        """;

    /// <summary>The app's commands the agent has not answered, oldest first (the order the agent runs them in).</summary>
    public async Task<IReadOnlyList<QueuedAppCommand>> QueuedAsync(Guid tenantId, Guid appId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var app = await AppForQueueAsync(connection, null, tenantId, appId, cancellationToken);
        if (app is null) return [];
        var rows = await QueuedRowsAsync(connection, null, app, forUpdate: false, cancellationToken);
        var revisions = await RevisionActionsAsync(connection, null, appId, cancellationToken);
        var now = time.GetUtcNow();
        return rows.Select(r => Describe(r, app, revisions, now)).ToList();
    }

    /// <summary>
    /// Withdraws a queued command of the app and, with it, the rest of its change (an install's namespace, Secrets and release;
    /// an upgrade's Secrets), only if none of them has reached the agent. Another tenant's or another app's command is
    /// not found; a delivered one is a conflict.
    /// </summary>
    public async Task<CancelQueuedResult> CancelQueuedAsync(Guid tenantId, Workspace workspace, string appName, Guid commandId, Actor actor,
        CancellationToken cancellationToken)
    {
        if (await FindRowAsync(tenantId, workspace.Id, appName, cancellationToken) is not { } found) return CancelQueuedResult.NotFound();
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The app row first, locked: two cancels (or a cancel and an upgrade) of one app take turns.
        var app = await AppForQueueAsync(connection, transaction, tenantId, found.Id, cancellationToken, forUpdate: true);
        if (app is null) return CancelQueuedResult.NotFound();
        var rows = await QueuedRowsAsync(connection, transaction, app, forUpdate: true, cancellationToken);
        var revisions = await RevisionActionsAsync(connection, transaction, app.Id, cancellationToken);
        if (rows.FirstOrDefault(r => r.Id == commandId) is not { } target)
        {
            var answered = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
                $"select c.status from agent_commands c where c.id = @commandId and c.tenant_id = @tenantId and ({AppFilter})",
                Filter(app, commandId), transaction, cancellationToken: cancellationToken));
            return answered is null ? CancelQueuedResult.NotFound()
                : CancelQueuedResult.Conflict(answered == "cancelled" ? "This command was already cancelled."
                    : $"The agent already ran this command ({answered}); it cannot be withdrawn.");
        }
        var command = Describe(target, app, revisions, now);
        if (command.State == QueuedCommandState.Delivered)
            return CancelQueuedResult.Conflict(
                $"The agent already took this command at {target.DeliveredAt:yyyy-MM-dd HH:mm:ss} UTC; it cannot be withdrawn.");
        if (command.Action == QueuedAppAction.Secret)
            return CancelQueuedResult.Conflict("A Secret write goes with the change it belongs to: cancel that change instead.");

        var group = Group(rows, target, command.Action);
        if (group.FirstOrDefault(r => r.DeliveredAt is not null) is { } delivered)
            return CancelQueuedResult.Conflict(
                $"Part of this change already reached the agent ({delivered.Type} at {delivered.DeliveredAt:yyyy-MM-dd HH:mm:ss} UTC); " +
                "it cannot be withdrawn.");
        var revision = RevisionOf(target.IdempotencyKey);
        if (command.Action == QueuedAppAction.Install && app.Revision != 1)
            return CancelQueuedResult.Conflict($"A later change (revision {app.Revision}) is queued after the install: cancel that first.");
        if (revision is { } r && r != app.Revision)
            return CancelQueuedResult.Conflict($"A newer change (revision {app.Revision}) is queued after this one: cancel that first.");

        var by = actor.Name ?? actor.Id;
        var ids = group.Select(g => g.Id).ToArray();
        var reason = $"Cancelled by {by} before it reached the agent.";
        // The guard: only rows still pending and undelivered change. The agent's poll sets delivered_at under the same row lock.
        var cancelled = await connection.ExecuteAsync(new CommandDefinition("""
            update agent_commands set status = 'cancelled', completed_at = @now, result_message = @reason, cancelled_by = @by
            where id = any(@ids) and tenant_id = @tenantId and status = 'pending' and delivered_at is null
            """, new { ids, now, reason, by, tenantId }, transaction, cancellationToken: cancellationToken));
        if (cancelled != ids.Length)
        {
            await transaction.RollbackAsync(cancellationToken);
            return CancelQueuedResult.Conflict("The agent took part of this change meanwhile; it cannot be withdrawn.");
        }
        var deliveries = group.Where(g => g.Type == CommandTypes.ApplySecret)
            .Select(g => Guid.TryParse(JsonNode.Parse(g.PayloadJson)?["deliveryId"]?.GetValue<string>(), out var d) ? d : Guid.Empty)
            .Where(d => d != Guid.Empty).ToList();
        await SecretRelay.WithdrawAsync(connection, transaction, deliveries, $"Withdrawn with {app.App}'s queued change: {reason}",
            cancellationToken);

        var effect = await UndoDesiredStateAsync(connection, transaction, app, command.Action, revision, now, cancellationToken);
        await audit.RecordAsync(new AuditEntry(actor, $"app.{command.Action.ToString().ToLowerInvariant()}_cancelled", tenantId, "workspace_app",
            app.Id.ToString(), new
            {
                workspace = workspace.Name,
                app = app.App,
                commandIds = ids,
                commands = group.Select(g => g.Type).ToList(),
                revision,
                effect,
            }), transaction, cancellationToken);
        await NotifyAsync(connection, transaction, tenantId, workspace.Id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Queued {Action} of app {App} ({AppId}) cancelled by {Actor}: {Commands} commands withdrawn", command.Action, app.App,
            app.Id, by, ids.Length);
        return new CancelQueuedResult(CancelOutcome.Cancelled, effect, ids);
    }

    /// <summary>The commands that make one change: an install is its namespace, its Secrets and its release; an upgrade or rollback its
    /// Secrets (queued since the change before it) and its release; a remove or an unlock is one command.</summary>
    private static List<QueuedRow> Group(IReadOnlyList<QueuedRow> rows, QueuedRow target, QueuedAppAction action)
    {
        if (action is QueuedAppAction.Remove or QueuedAppAction.Unlock) return [target];
        if (action == QueuedAppAction.Install)
        {
            var release = rows.FirstOrDefault(r => RevisionOf(r.IdempotencyKey) == 1) ?? target;
            return rows.Where(r => r.IdempotencyKey.EndsWith(":namespace", StringComparison.Ordinal) || r.Id == release.Id
                || (r.Type == CommandTypes.ApplySecret && r.CreatedAt <= release.CreatedAt)).ToList();
        }
        var previous = rows.Where(r => r.Type != CommandTypes.ApplySecret && r.CreatedAt < target.CreatedAt).Select(r => r.CreatedAt)
            .DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        return rows.Where(r => r.Id == target.Id
            || (r.Type == CommandTypes.ApplySecret && r.CreatedAt > previous && r.CreatedAt <= target.CreatedAt)).ToList();
    }

    /// <summary>The app's desired state without the withdrawn change; says what it became.</summary>
    private static async Task<string> UndoDesiredStateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, QueueApp app,
        QueuedAppAction action, int? revision, DateTimeOffset now, CancellationToken cancellationToken)
    {
        switch (action)
        {
            case QueuedAppAction.Install:
                // Nothing reached the cluster: the app is not installed (the row stays as history; the catalog offers Install again).
                await connection.ExecuteAsync(new CommandDefinition(
                    "update workspace_apps set desired_state = 'removed', removed_at = @now where id = @Id",
                    new { app.Id, now }, transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "update workspace_app_revisions set cancelled_at = @now where app_id = @Id and revision = 1",
                    new { app.Id, now }, transaction, cancellationToken: cancellationToken));
                return $"{app.App} is not installed: its install never reached the cluster.";
            case QueuedAppAction.Upgrade or QueuedAppAction.Rollback:
                var back = await connection.QueryFirstOrDefaultAsync<BackRow>(new CommandDefinition("""
                    select revision, chart_version, "values"::text as values_json, secret_paths from workspace_app_revisions
                    where app_id = @Id and revision < @revision and cancelled_at is null order by revision desc limit 1
                    """, new { app.Id, revision }, transaction, cancellationToken: cancellationToken));
                if (back is null) return "Nothing to put back.";
                await connection.ExecuteAsync(new CommandDefinition("""
                    update workspace_apps set chart_version = @ChartVersion, "values" = @ValuesJson::jsonb, secret_paths = @SecretPaths,
                                              revision = @Revision, revision_changed_at = @now
                    where id = @Id
                    """, new { back.ChartVersion, back.ValuesJson, back.SecretPaths, back.Revision, now, app.Id }, transaction,
                    cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "update workspace_app_revisions set cancelled_at = @now where app_id = @Id and revision = @revision",
                    new { app.Id, now, revision }, transaction, cancellationToken: cancellationToken));
                return $"{app.App} stays at revision {back.Revision} (chart {back.ChartVersion}); revision {revision} never reached the cluster.";
            case QueuedAppAction.Remove:
                await connection.ExecuteAsync(new CommandDefinition(
                    "update workspace_apps set desired_state = 'installed' where id = @Id and desired_state = 'removing'",
                    new { app.Id }, transaction, cancellationToken: cancellationToken));
                return $"{app.App} stays installed: the removal never reached the cluster.";
            default:
                return "The request to unlock the stuck release was withdrawn.";
        }
    }

    private static QueuedAppCommand Describe(QueuedRow row, QueueApp app, IReadOnlyDictionary<int, (string Action, string Chart)> revisions,
        DateTimeOffset now)
    {
        var state = row.DeliveredAt is not null ? QueuedCommandState.Delivered
            : row.ExpiresAt <= now ? QueuedCommandState.Expired : QueuedCommandState.Waiting;
        var key = row.IdempotencyKey;
        var (action, description) = row.Type == CommandTypes.ApplySecret
            ? (QueuedAppAction.Secret, $"Write Secret {JsonNode.Parse(row.PayloadJson)?["name"]} (a sealed value) in namespace {app.Namespace}")
            : key.EndsWith(":namespace", StringComparison.Ordinal) ? (QueuedAppAction.Install,
                $"Install: create namespace {app.Namespace} (quota, network policy, Pod Security)")
            : key.EndsWith(":remove", StringComparison.Ordinal) ? (QueuedAppAction.Remove,
                $"Remove: delete namespace {app.Namespace} and everything in it")
            : key.Contains(":unlock:", StringComparison.Ordinal) ? (QueuedAppAction.Unlock, "Unlock the stuck release (forced Flux reconcile)")
            : RevisionOf(key) is { } n ? n == 1
                ? (QueuedAppAction.Install, $"Install: release revision 1 (chart {Chart(revisions, n)})")
                : revisions.TryGetValue(n, out var r) && r.Action == "rollback"
                    ? (QueuedAppAction.Rollback, $"Rollback: release revision {n} (chart {r.Chart})")
                    : (QueuedAppAction.Upgrade, $"Upgrade: release revision {n} (chart {Chart(revisions, n)})")
            : (QueuedAppAction.Unlock, row.Type);
        return new QueuedAppCommand(row.Id, row.Type, action, description, row.CreatedAt, row.CreatedBy, row.ExpiresAt, row.DeliveredAt, state);
    }

    private static string Chart(IReadOnlyDictionary<int, (string Action, string Chart)> revisions, int n) =>
        revisions.TryGetValue(n, out var r) ? r.Chart : "?";

    /// <summary>N of an app's release command key <c>app:{id}:revision:N</c>.</summary>
    private static int? RevisionOf(string idempotencyKey)
    {
        var at = idempotencyKey.LastIndexOf(":revision:", StringComparison.Ordinal);
        return at >= 0 && int.TryParse(idempotencyKey[(at + ":revision:".Length)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n : null;
    }

    /// <summary>The app's own commands (keyed app:{id}:...) and the Secret writes into its namespace by its workspace's agents.</summary>
    private const string AppFilter = """
        c.idempotency_key like @prefix
        or (c.type = 'secret.apply' and c.payload ->> 'namespace' = @ns
            and c.agent_id in (select g.id from agents g where g.tenant_id = @tenantId and g.workspace_id = @workspaceId))
        """;

    private static object Filter(QueueApp app, Guid? commandId = null) => new
    {
        prefix = $"app:{app.Id}:%",
        ns = app.Namespace,
        tenantId = app.TenantId,
        workspaceId = app.WorkspaceId,
        commandId,
    };

    private static async Task<IReadOnlyList<QueuedRow>> QueuedRowsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, QueueApp app,
        bool forUpdate, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<QueuedRow>(new CommandDefinition(
            $"select {QueuedColumns} from agent_commands c where c.tenant_id = @tenantId and c.status = 'pending' and ({AppFilter}) " +
                $"and c.created_at >= @since order by c.created_at{(forUpdate ? " for update" : "")}",
            new { prefix = $"app:{app.Id}:%", ns = app.Namespace, tenantId = app.TenantId, workspaceId = app.WorkspaceId, since = app.CreatedAt },
            transaction, cancellationToken: cancellationToken))).ToList();

    private static async Task<QueueApp?> AppForQueueAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId, Guid appId,
        CancellationToken cancellationToken, bool forUpdate = false) =>
        await connection.QueryFirstOrDefaultAsync<QueueApp>(new CommandDefinition(
            "select id, tenant_id, workspace_id, app, namespace, revision, created_at from workspace_apps " +
                $"where id = @appId and tenant_id = @tenantId and desired_state <> 'removed'{(forUpdate ? " for update" : "")}",
            new { appId, tenantId }, transaction, cancellationToken: cancellationToken));

    private static async Task<IReadOnlyDictionary<int, (string Action, string Chart)>> RevisionActionsAsync(NpgsqlConnection connection,
        NpgsqlTransaction? transaction, Guid appId, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<(int Revision, string Action, string ChartVersion)>(new CommandDefinition(
            "select revision, action, chart_version from workspace_app_revisions where app_id = @appId", new { appId }, transaction,
            cancellationToken: cancellationToken))).ToDictionary(r => r.Revision, r => (r.Action, r.ChartVersion));

    private sealed class QueueApp
    {
        public Guid Id { get; init; }
        public Guid TenantId { get; init; }
        public Guid WorkspaceId { get; init; }
        public string App { get; init; } = "";
        public string Namespace { get; init; } = "";
        public int Revision { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
    }

    private sealed class QueuedRow
    {
        public Guid Id { get; init; }
        public string Type { get; init; } = "";
        public string IdempotencyKey { get; init; } = "";
        public string PayloadJson { get; init; } = "{}";
        public string Status { get; init; } = "";
        public DateTimeOffset CreatedAt { get; init; }
        public string CreatedBy { get; init; } = "";
        public DateTimeOffset ExpiresAt { get; init; }
        public DateTimeOffset? DeliveredAt { get; init; }
    }

    private sealed class BackRow
    {
        public int Revision { get; init; }
        public string ChartVersion { get; init; } = "";
        public string ValuesJson { get; init; } = "{}";
        public string[] SecretPaths { get; init; } = [];
    }
}
