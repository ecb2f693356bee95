using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Audit;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>
/// Installs one catalog app in a workspace through the form generated from its schema. The values are checked
/// by the same server-side validation the API uses before anything is queued, and each problem shows on its field.
/// </summary>
public partial class AppInstallPage
{
    [Parameter] public string Name { get; set; } = "";
    [Parameter] public string App { get; set; } = "";

    [Inject] private WorkspaceStore Store { get; set; } = default!;
    [Inject] private WorkspaceApps Apps { get; set; } = default!;
    [Inject] private AppCatalog Catalog { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private AppSecretSealing Sealing { get; set; } = default!;
    [Inject] private Microsoft.JSInterop.IJSRuntime JS { get; set; } = default!;

    private bool loaded;
    private bool busy;
    private Workspace? workspace;
    private CatalogApp? definition;
    private AppForm? form;
    private string chartVersion = "";
    private string? chartVersionError;
    private bool installedAlready;
    private string? secretsError;
    private AppCapacityCheck? capacity;
    private AppDatabasePlan? databasePlan;
    private string? databaseUnavailable;
    private AppDatabaseChoice databaseChoice;
    private string? databaseError;

    private string CatalogHref => $"t/{Current.Slug}/workspaces/{Name}/catalog";
    private string AppHref => $"t/{Current.Slug}/workspaces/{Name}/apps/{App}";

    protected override async Task OnTenantReadyAsync()
    {
        workspace = await Store.FindByNameAsync(Current.TenantId, Name, Aborted);
        definition = Catalog.Find(App);
        if (workspace is not null && definition is not null)
        {
            installedAlready = await Apps.FindAsync(Current.TenantId, workspace.Id, definition.Id, Aborted) is not null;
            form = AppForm.For(definition, definition.Defaults);
            chartVersion = definition.Chart.Latest;
            capacity = await Apps.CapacityAsync(Current.TenantId, workspace.Id, definition, Aborted);
            // The workspace's own database when the app can use it (the choice the form starts with), else the chart's bundled one.
            var database = AppDatabase.Of(workspace);
            databasePlan = AppDatabase.Plan(definition, database);
            databaseUnavailable = AppDatabase.Unavailable(definition, database);
            databaseChoice = databasePlan is null ? AppDatabaseChoice.Bundled : AppDatabaseChoice.Workspace;
        }
        loaded = true;
    }

    private async Task InstallAsync()
    {
        if (workspace is null || definition is null || form is null || busy) return;
        busy = true;
        try
        {
            var (values, errors) = form.ToValues();
            // The same check the API makes, first here so every problem shows on its field before anything is queued.
            var planned = AppValues.Merge(definition.Defaults, values);
            if (databaseChoice == AppDatabaseChoice.Workspace && databasePlan is not null) planned = AppValues.Merge(planned, databasePlan.Values);
            if (errors.IsEmpty) errors = WorkspaceApps.Check(definition, chartVersion, planned);
            secretsError = null;
            databaseError = null;
            if (errors.IsEmpty)
            {
                // Sealed in this browser only once everything else is right: the inputs keep their values until the install is accepted.
                var sealedValues = await Sealing.SealAsync(JS, Current.UserId?.ToString() ?? "anonymous", Current.TenantId, workspace.Id, definition,
                    form, Aborted);
                if (!sealedValues.Ok)
                {
                    secretsError = sealedValues.Error;
                    return;
                }
                var result = await Apps.InstallAsync(Current.TenantId, workspace, definition.Id, chartVersion, values, sealedValues.Secrets,
                    databaseChoice, User.AsActor(), Aborted);
                if (result.Succeeded)
                {
                    Snackbar.Add($"Installing {definition.DisplayName}: the agent picks it up on its next call.", Severity.Success);
                    Navigation.NavigateTo(AppHref);
                    return;
                }
                errors = result.IsNotFound ? Infrastructure.Http.FieldErrors.Single("values", "This workspace no longer exists.") : result.Errors;
            }
            chartVersionError = errors.For("chartVersion");
            databaseError = errors.For("database");
            form.ShowErrors(errors);
            form.GeneralErrors.RemoveAll(e => e == chartVersionError || e == databaseError);
        }
        finally
        {
            busy = false;
        }
    }
}
