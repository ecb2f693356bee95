using System.Text.Json.Nodes;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces.Runs;

namespace Cogrion.Portal.Features.Workspaces.Wizard;

/// <summary>What the workspace wizard asks of the rest of the Portal while the person fills it in.</summary>
public interface IWorkspaceWizardQueries
{
    /// <summary>The networks already used in that account and region, and whether the name is taken in the tenant.</summary>
    Task<(IReadOnlyList<string> Networks, bool NameTaken)> RuleInputsAsync(Guid tenantId, Guid? accountId, string? region, string? name,
        CancellationToken cancellationToken);

    /// <summary>Where the workspace's state will live, and whether its first run also creates that place (ADR 0041).</summary>
    Task<string?> StateBackendNoteAsync(Guid tenantId, CloudAccount account, string region, CancellationToken cancellationToken);

    /// <summary>The module variables the run would use, without secrets (the review step shows them).</summary>
    JsonObject PreviewVariables(Guid tenantId, CloudProvider provider, NewWorkspace input);
}

/// <summary>The wizard's questions answered by the workspace store, the state backends and the run requests.</summary>
public sealed class WorkspaceWizardQueries(WorkspaceStore store, StateBackendViews backends, WorkspaceRunRequests requests) : IWorkspaceWizardQueries
{
    public Task<(IReadOnlyList<string> Networks, bool NameTaken)> RuleInputsAsync(Guid tenantId, Guid? accountId, string? region, string? name,
        CancellationToken cancellationToken) =>
        store.RuleInputsAsync(tenantId, accountId, region, name, cancellationToken);

    public async Task<string?> StateBackendNoteAsync(Guid tenantId, CloudAccount account, string region, CancellationToken cancellationToken) =>
        StateBackends.ReviewNote(account, region, await backends.ListAsync(tenantId, account.Id, cancellationToken));

    public JsonObject PreviewVariables(Guid tenantId, CloudProvider provider, NewWorkspace input) =>
        requests.Preview(tenantId, provider, input).ToPublicTfvars();
}
