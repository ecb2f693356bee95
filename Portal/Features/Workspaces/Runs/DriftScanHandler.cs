using Cogrion.Jobs;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>
/// Starts a drift run (a plan that applies nothing) for every ready or drifted workspace without an
/// active run. The one query here that spans tenants: the scan is the platform's, and each run it
/// starts is tenant-scoped like any other.
/// </summary>
public sealed class DriftScanHandler(NpgsqlDataSource dataSource, RunLedger ledger) : IJobHandler<DriftScanJob>
{
    public async Task RunAsync(DriftScanJob arguments, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var candidates = (await connection.QueryAsync<(Guid TenantId, Guid Id)>(new CommandDefinition("""
            select w.tenant_id, w.id from workspaces w
            where w.status in ('ready', 'drifted')
              and not exists (select 1 from workspace_runs r where r.workspace_id = w.id and r.status in ('queued', 'planning', 'awaiting_approval', 'applying'))
            order by w.id
            """, cancellationToken: cancellationToken))).ToList();
        var started = 0;
        foreach (var (tenantId, workspaceId) in candidates)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var workspace = await WorkspaceStore.FindAsync(connection, transaction, tenantId, workspaceId, forUpdate: true, cancellationToken);
            if (workspace is null || workspace.Status is not (WorkspaceStatus.Ready or WorkspaceStatus.Drifted)
                || await RunRecovery.WhyBusyAsync(connection, transaction, workspace, cancellationToken) is not null) continue;
            await ledger.StartRunAsync(transaction, workspace, RunKind.Drift, Actor.System("drift-detection"), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            started++;
        }
        await context.AppendLogAsync($"Drift checks started for {started} workspace(s).");
    }
}
