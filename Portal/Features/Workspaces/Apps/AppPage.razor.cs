using Cogrion.Portal.Components.Dialogs;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>
/// One installed app: its status with the cause and the last failure, its last ten desired states with
/// Rollback, Upgrade (chart version and values, with the diff shown before it is confirmed) and Remove
/// behind the app's name typed in full. The status is re-read when an agent report about the workspace's apps is announced.
/// </summary>
public partial class AppPage
{
    /// <summary>
    /// Agent reports are announced (<see cref="TenantChanges"/>, the workspace as subject): the page re-reads when one
    /// changes an app of its workspace. This slower beat only moves "agent silent since" along when no report comes at all.
    /// </summary>
    private static readonly TimeSpan StatusRefresh = TimeSpan.FromSeconds(15);

    [Parameter] public string Name { get; set; } = "";
    [Parameter] public string App { get; set; } = "";

    [Inject] private WorkspaceStore Store { get; set; } = default!;
    [Inject] private WorkspaceApps Apps { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private AppSecretSealing Sealing { get; set; } = default!;
    [Inject] private TenantChanges Changes { get; set; } = default!;
    [Inject] private Microsoft.JSInterop.IJSRuntime JS { get; set; } = default!;

    private bool loaded;
    private bool busy;
    private Workspace? workspace;
    private WorkspaceAppView? view;
    private IReadOnlyList<AppRevision> revisions = [];
    private AppUpgradeRequest? pendingUpgrade;
    private string? secretsError;
    private AppForm? upgradeForm;
    private string upgradeVersion = "";
    private string? chartVersionError;
    private string? actionError;
    private IReadOnlyList<ValueChange>? review;
    private System.Text.Json.Nodes.JsonObject? reviewedValues;
    private ITimer? refresh;
    private IDisposable? listening;
    private bool deleteData;
    private readonly SemaphoreSlim reloading = new(1, 1);

    private string WorkspaceHref => $"t/{Current.Slug}/workspaces/{Name}";

    private bool CanOperate => Current.Can(TenantRole.Operator) && Current.Source != Tenants.Access.TenantAccessSource.PlatformAdmin;

    private bool NothingChanges => review is { Count: 0 } && view is not null && upgradeVersion == view.App.ChartVersion;

    protected override async Task OnTenantReadyAsync()
    {
        await ReloadAsync();
        ResetUpgrade();
        loaded = true;
        if (!RendererInfo.IsInteractive) return;
        refresh?.Dispose();
        refresh = Time.CreateTimer(_ => _ = RefreshAsync(), null, StatusRefresh, StatusRefresh);
        listening?.Dispose();
        if (workspace is not null) listening = Changes.Listen(Current.TenantId, workspace.Id, TimeSpan.FromMilliseconds(100), RefreshAsync);
    }

    private async Task ReloadAsync()
    {
        await reloading.WaitAsync(Aborted);
        try
        {
            // Tenant first: another tenant's workspace name finds nothing, and the app is looked up only inside it.
            workspace = await Store.FindByNameAsync(Current.TenantId, Name, Aborted);
            view = workspace is null ? null : await Apps.FindAsync(Current.TenantId, workspace.Id, App, Aborted);
            revisions = view is null ? [] : await Apps.RevisionsAsync(Current.TenantId, view.App.Id, Aborted);
            pendingUpgrade = view is null ? null : await Apps.PendingUpgradeAsync(Current.TenantId, view.App.Id, Aborted);
            await LoadQueuedAsync();
        }
        finally
        {
            reloading.Release();
        }
    }

    private async Task RefreshAsync()
    {
        try
        {
            await ReloadAsync();
            await InvokeAsync(StateHasChanged);
        }
        catch (OperationCanceledException)
        {
            // The page went away.
        }
        catch (ObjectDisposedException)
        {
            // The page went away between the tick and the read.
        }
    }

    /// <summary>The upgrade form starts from the app's current chart version and values.</summary>
    private void ResetUpgrade()
    {
        if (view is null) return;
        upgradeForm = AppForm.For(view.Definition, view.App.Values);
        foreach (var field in upgradeForm.AllFields.Where(f => f.Kind == AppFieldKind.Secret))
            field.SecretIsSet = view.App.SecretPaths.Contains(field.Path, StringComparer.Ordinal);
        secretsError = null;
        upgradeVersion = view.App.ChartVersion;
        chartVersionError = null;
        review = null;
        reviewedValues = null;
    }

    /// <summary>Checks the new values with the server-side validation and shows what would change; nothing runs yet.</summary>
    private void ReviewAsync()
    {
        if (view is null || upgradeForm is null) return;
        var (overrides, errors) = upgradeForm.ToValues();
        var values = AppValues.Merge(view.App.Values, overrides);
        if (errors.IsEmpty) errors = WorkspaceApps.Check(view.Definition, upgradeVersion, values);
        if (!errors.IsEmpty)
        {
            ShowUpgradeErrors(errors);
            return;
        }
        ShowUpgradeErrors(new FieldErrors());
        reviewedValues = overrides;
        review = AppValues.Diff(view.App.Values, values);
    }

    private async Task UpgradeAsync()
    {
        if (workspace is null || view is null || reviewedValues is null || busy) return;
        busy = true;
        try
        {
            // The secret inputs are sealed in this browser at the last moment; an empty one keeps its value.
            var sealedValues = await Sealing.SealAsync(JS, Current.UserId?.ToString() ?? "anonymous", Current.TenantId, workspace.Id, view.Definition,
                upgradeForm!, Aborted);
            if (!sealedValues.Ok)
            {
                secretsError = sealedValues.Error;
                return;
            }
            var result = await Apps.UpgradeAsync(Current.TenantId, workspace, view.App.App, upgradeVersion, reviewedValues, sealedValues.Secrets,
                User.AsActor(), Aborted);
            if (!result.Succeeded)
            {
                review = null;
                if (result.IsNotFound) actionError = "This app is no longer installed.";
                else ShowUpgradeErrors(result.Errors);
                return;
            }
            Snackbar.Add(workspace.ApprovalMode == ApprovalMode.Manual
                ? $"The upgrade of {view.Definition.DisplayName} waits for an operator's approval."
                : $"Upgrading {view.Definition.DisplayName} to revision {result.Value!.Revision}.", Severity.Success);
            await ReloadAsync();
            ResetUpgrade();
        }
        finally
        {
            busy = false;
        }
    }

    /// <summary>An operator decides on the waiting upgrade (the service checks it still waits and is not stale).</summary>
    private async Task DecideAsync(bool approve)
    {
        if (workspace is null || view is null || pendingUpgrade is not { } pending || busy) return;
        busy = true;
        try
        {
            actionError = null;
            var result = approve
                ? await Apps.ApproveUpgradeAsync(Current.TenantId, workspace, view.App.App, pending.Id, User.AsActor(), Aborted)
                : await Apps.RejectUpgradeAsync(Current.TenantId, workspace, view.App.App, pending.Id, User.AsActor(), Aborted);
            if (result.Succeeded) Snackbar.Add(approve ? $"Approved: upgrading to revision {result.Value!.Revision}." : "Upgrade rejected.",
                Severity.Success);
            else actionError = result.IsNotFound ? "This upgrade no longer waits for approval." : result.Errors.For("upgrade") ?? "Not possible now.";
            await ReloadAsync();
            ResetUpgrade();
        }
        finally
        {
            busy = false;
        }
    }

    private void ShowUpgradeErrors(FieldErrors errors)
    {
        chartVersionError = errors.For("chartVersion");
        upgradeForm!.ShowErrors(errors);
        upgradeForm.GeneralErrors.RemoveAll(e => e == chartVersionError);
    }

    private async Task RollbackAsync(int revision)
    {
        if (workspace is null || view is null || busy) return;
        busy = true;
        try
        {
            actionError = null;
            var result = await Apps.RollbackAsync(Current.TenantId, workspace, view.App.App, revision, User.AsActor(), Aborted);
            if (result.Succeeded) Snackbar.Add($"Rolling back to revision {revision}.", Severity.Success);
            else actionError = result.IsNotFound ? "This app is no longer installed."
                : result.Errors.For("revision") ?? result.Errors.For("workspace") ?? "Not possible now.";
            await ReloadAsync();
            ResetUpgrade();
        }
        finally
        {
            busy = false;
        }
    }

    /// <summary>Remove is behind the app's id typed in full (the service checks it again); its namespace and everything in it go.</summary>
    private async Task ConfirmRemoveAsync()
    {
        if (workspace is null || view is not { } v) return;
        actionError = null;
        var dialog = await Dialogs.ShowAsync<TypedConfirmationDialog>($"Remove {v.Definition.DisplayName}?",
            new DialogParameters<TypedConfirmationDialog>
        {
            { d => d.Title, $"Remove {v.Definition.DisplayName}?" },
            { d => d.Message, $"The namespace {v.App.Namespace} and everything in it are deleted from {workspace.Name}. This cannot be undone. " +
                (deleteData ? "Its data (persistent volumes) is deleted too." : "Its data (persistent volumes) is kept.") },
            { d => d.Expected, v.App.App },
            { d => d.ActionLabel, "Remove app" },
        }, new DialogOptions { CloseOnEscapeKey = true, MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: string typed }) return;
        var result = await Apps.RemoveAsync(Current.TenantId, workspace, v.App.App, typed, deleteData, User.AsActor(), Aborted);
        if (!result.Succeeded)
        {
            actionError = result.IsNotFound ? "This app is no longer installed."
                : result.Errors.For("confirmation") ?? result.Errors.For("workspace") ?? "Not possible now.";
            return;
        }
        Snackbar.Add($"Removing {v.Definition.DisplayName}.", Severity.Success);
        await ReloadAsync();
    }

    private static Severity SeverityOf(AppState state) => state switch
    {
        AppState.Ready => MudBlazor.Severity.Success,
        AppState.Failed => MudBlazor.Severity.Error,
        AppState.Degraded => MudBlazor.Severity.Warning,
        _ => MudBlazor.Severity.Info,
    };

    protected override void OnDisposing()
    {
        listening?.Dispose();
        refresh?.Dispose();
    }
}
