using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>
/// An upgrade waiting for an operator: what it would change (against revision <see cref="FromRevision"/>), the Secrets it
/// would set or rotate (<see cref="SecretsSet"/>, names only), and who asked.
/// </summary>
public sealed record AppUpgradeRequest(
    Guid Id,
    int FromRevision,
    string FromChartVersion,
    string ChartVersion,
    JsonObject Values,
    IReadOnlyList<string> SecretPaths,
    IReadOnlyList<string> SecretsSet,
    string RequestedBy,
    DateTimeOffset RequestedAt);

/// <summary>
/// Operator approval of upgrades, as runs have it: in a workspace whose approval mode is manual, an upgrade waits
/// with its chart change and values diff until an operator of the tenant approves it (then it becomes a revision and
/// its commands are queued) or rejects it. One waits per app; a newer request supersedes it. Each step is audited.
/// </summary>
public sealed partial class WorkspaceApps
{
    public async Task<AppUpgradeRequest?> PendingUpgradeAsync(Guid tenantId, Guid appId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<UpgradeRow>(new CommandDefinition($"""
            select {UpgradeColumns} from workspace_app_upgrades u
            where u.tenant_id = @tenantId and u.app_id = @appId and u.status = 'pending'
            """, new { tenantId, appId }, cancellationToken: cancellationToken));
        return row?.ToRequest();
    }

    /// <summary>An operator lets the waiting upgrade apply: it becomes the next revision, exactly as asked, and its commands are queued.</summary>
    public async Task<CommandResult<WorkspaceApp>> ApproveUpgradeAsync(Guid tenantId, Workspace workspace, string appId, Guid upgradeId,
        Actor actor, CancellationToken cancellationToken)
    {
        if (catalog.Find(appId) is not { } app
            || await FindRowAsync(tenantId, workspace.Id, appId, cancellationToken) is not { DesiredState: AppDesiredState.Installed } current)
            return CommandResult<WorkspaceApp>.NotFound();
        var pending = await PendingUpgradeAsync(tenantId, current.Id, cancellationToken);
        if (pending is null || pending.Id != upgradeId) return CommandResult<WorkspaceApp>.NotFound();
        if (pending.FromRevision != current.Revision)
        {
            await DecideAsync(tenantId, current, pending, "superseded", actor, "app.upgrade_superseded", cancellationToken);
            return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("upgrade",
                $"{app.DisplayName} changed since this upgrade was asked for (revision {pending.FromRevision}, now {current.Revision}); ask again."));
        }
        var secrets = await SealedSecretsOfAsync(pending.Id, cancellationToken);
        var errors = await secretValues.CheckAsync(tenantId, workspace.Id, app, secrets, cancellationToken);
        if (!errors.IsEmpty)
            return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("upgrade",
                "Its sealed secret values can no longer be delivered (" + string.Join(" ", errors.ToDictionary().SelectMany(e => e.Value)) +
                "). Reject it and ask again with the values sealed anew."));
        if (!await DecideAsync(tenantId, current, pending, "approved", actor, "app.upgrade_approved", cancellationToken))
            return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("upgrade", "Someone decided on this upgrade meanwhile."));
        return await ChangeAsync(tenantId, workspace, app, current, "upgrade", pending.ChartVersion, pending.Values, pending.SecretPaths, actor,
            cancellationToken, secrets: secrets);
    }

    /// <summary>An operator refuses the waiting upgrade: nothing changes, and its sealed secret values are dropped.</summary>
    public async Task<CommandResult<WorkspaceApp>> RejectUpgradeAsync(Guid tenantId, Workspace workspace, string appId, Guid upgradeId, Actor actor,
        CancellationToken cancellationToken)
    {
        if (await FindRowAsync(tenantId, workspace.Id, appId, cancellationToken) is not { DesiredState: AppDesiredState.Installed } current)
            return CommandResult<WorkspaceApp>.NotFound();
        var pending = await PendingUpgradeAsync(tenantId, current.Id, cancellationToken);
        if (pending is null || pending.Id != upgradeId) return CommandResult<WorkspaceApp>.NotFound();
        if (!await DecideAsync(tenantId, current, pending, "rejected", actor, "app.upgrade_rejected", cancellationToken))
            return CommandResult<WorkspaceApp>.Invalid(FieldErrors.Single("upgrade", "Someone decided on this upgrade meanwhile."));
        return CommandResult<WorkspaceApp>.Ok(current);
    }

    private async Task<CommandResult<WorkspaceApp>> RequestApprovalAsync(Guid tenantId, Workspace workspace, CatalogApp app, WorkspaceApp current,
        string version, JsonObject values, IReadOnlyList<string> secretPaths, IReadOnlyList<SealedSecret> secrets, Actor actor,
        CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            update workspace_app_upgrades set status = 'superseded', sealed_secrets = null, decided_by = @by, decided_at = @now
            where tenant_id = @tenantId and app_id = @appId and status = 'pending'
            """, new { tenantId, appId = current.Id, by = actor.Label, now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into workspace_app_upgrades (id, tenant_id, app_id, from_revision, from_chart_version, chart_version, "values", secret_paths,
                                                sealed_secrets, status, requested_by, requested_at)
            values (@id, @tenantId, @appId, @fromRevision, @fromVersion, @version, @values::jsonb, @secretPaths, @sealedSecrets::jsonb, 'pending',
                    @by, @now)
            """, new
        {
            id,
            tenantId,
            appId = current.Id,
            fromRevision = current.Revision,
            fromVersion = current.ChartVersion,
            version,
            values = values.ToJsonString(),
            secretPaths = secretPaths.ToArray(),
            // Ciphertext as the browser sealed it, to the agent's key: the Portal cannot open it (docs/secrets.md).
            sealedSecrets = secrets.Count == 0 ? null : JsonSerializer.Serialize(secrets.ToList(), ProtocolJson.Default.ListSealedSecret),
            by = actor.Label,
            now = time.GetUtcNow(),
        }, transaction, cancellationToken: cancellationToken));
        await audit.RecordAsync(new AuditEntry(actor, "app.upgrade_awaiting_approval", tenantId, "workspace_app", current.Id.ToString(), new
        {
            workspace = workspace.Name,
            app = app.Id,
            upgrade = id,
            fromChartVersion = current.ChartVersion,
            chartVersion = version,
            fromRevision = current.Revision,
            changes = AppValues.Diff(current.Values, values).Select(c => c.Path).ToList(),
            secretValuesSet = AppSecretValues.Paths(app, secrets),
        }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Upgrade {UpgradeId} of {App} in workspace {WorkspaceId} waits for an operator's approval", id, app.Id, workspace.Id);
        return CommandResult<WorkspaceApp>.Ok(current);
    }

    /// <summary>Ends the waiting upgrade with a decision (only if it still waits), drops its ciphertext, and audits it.</summary>
    private async Task<bool> DecideAsync(Guid tenantId, WorkspaceApp current, AppUpgradeRequest pending, string status, Actor actor, string action,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition("""
            update workspace_app_upgrades set status = @status, sealed_secrets = null, decided_by = @by, decided_at = @now
            where tenant_id = @tenantId and id = @Id and status = 'pending'
            """, new { status, tenantId, pending.Id, by = actor.Label, now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken));
        if (changed == 0) return false;
        await audit.RecordAsync(new AuditEntry(actor, action, tenantId, "workspace_app", current.Id.ToString(), new
        {
            app = current.App,
            upgrade = pending.Id,
            requestedBy = pending.RequestedBy,
            fromChartVersion = pending.FromChartVersion,
            chartVersion = pending.ChartVersion,
        }), transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private async Task<IReadOnlyList<SealedSecret>> SealedSecretsOfAsync(Guid upgradeId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var json = await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
            "select sealed_secrets::text from workspace_app_upgrades where id = @upgradeId", new { upgradeId },
                cancellationToken: cancellationToken));
        return json is null ? [] : JsonSerializer.Deserialize(json, ProtocolJson.Default.ListSealedSecret) ?? [];
    }

    private const string UpgradeColumns = """
        u.id, u.from_revision, u.from_chart_version, u.chart_version, u."values"::text as values_json, u.secret_paths,
        coalesce(array(select s ->> 'name' from jsonb_array_elements(coalesce(u.sealed_secrets, '[]'::jsonb)) s), '{}') as sealed_names,
        u.requested_by, u.requested_at
        """;

    private sealed class UpgradeRow
    {
        public Guid Id { get; init; }
        public int FromRevision { get; init; }
        public string FromChartVersion { get; init; } = "";
        public string ChartVersion { get; init; } = "";
        public string ValuesJson { get; init; } = "{}";
        public string[] SecretPaths { get; init; } = [];
        public string[] SealedNames { get; init; } = [];
        public string RequestedBy { get; init; } = "";
        public DateTimeOffset RequestedAt { get; init; }

        public AppUpgradeRequest ToRequest() => new(Id, FromRevision, FromChartVersion, ChartVersion, Parse(ValuesJson), SecretPaths,
            SealedNames, RequestedBy, RequestedAt);
    }
}
