using System.Security.Claims;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Workspaces.Apps;

public sealed record CatalogAppResponse(
    string Id, string DisplayName, string Description, string ChartRepository, string Chart, IReadOnlyList<string> ChartVersions,
    IReadOnlyList<string> SecretValues, string PodSecurity, string Cpu, string Memory, JsonObject ValuesSchema, JsonObject Defaults)
{
    public static CatalogAppResponse From(CatalogApp a) => new(a.Id, a.DisplayName, a.Description, a.Chart.Repository, a.Chart.Name, a.Chart.Versions,
        a.Secrets, a.PodSecurity.ToString().ToLowerInvariant(), a.Resources.Cpu, a.Resources.Memory, a.SchemaDocument, a.Defaults);
}

public sealed record AppResponse(
    Guid Id, string App, string Namespace, string Address, string ChartVersion, int Revision, JsonObject Values, string State, string Cause,
    DateTimeOffset? StatusAsOf, DateTimeOffset? AgentSilentSince, AppFailure? LastFailure, string? LastAttemptedChartVersion,
        string? LastAppliedChartVersion, AppStuckRelease? StuckRelease = null)
{
    public static AppResponse From(WorkspaceAppView view, string workspaceDomain) => new(view.App.Id, view.App.App, view.App.Namespace,
        view.Definition.AddressIn(workspaceDomain), view.App.ChartVersion, view.App.Revision, view.App.Values, view.Status.State.ToString(),
            view.Status.Cause,
        view.Status.AsOf, view.Status.AgentSilentSince, view.Status.LastFailure, view.App.Report?.LastAttemptedRevision,
            view.App.Report?.LastAppliedRevision, view.App.Stuck);
}

/// <summary>
/// Install: the app, a supported chart version (default: the newest), values laid over the catalog's defaults, and the
/// secret values, each sealed to the workspace agent's key (docs/secrets.md) for its field's Secret; never in Values.
/// </summary>
/// <remarks>Database: <c>workspace</c> (the workspace's own database; the role's password among the sealed secrets) or <c>bundled</c>
/// (default).</remarks>
public sealed record InstallAppRequest(string? App, string? ChartVersion, JsonObject? Values, IReadOnlyList<SealedSecret>? Secrets = null,
    string? Database = null);

/// <summary>Upgrade: another chart version and/or values laid over the current ones; sealed secret values set or rotate theirs.</summary>
public sealed record UpgradeAppRequest(string? ChartVersion, JsonObject? Values, IReadOnlyList<SealedSecret>? Secrets = null);

public sealed record RollbackAppRequest(int Revision);

/// <summary>
/// What a change left as the desired state (the agent applies it; follow the app's status for the outcome). In a workspace
/// whose approval mode is manual an upgrade changes nothing yet: <see cref="AwaitingApproval"/> is the upgrade that waits.
/// </summary>
public sealed record AppChangeResponse(Guid Id, string App, string Namespace, string ChartVersion, int Revision, string DesiredState,
    AppUpgradeResponse? AwaitingApproval = null);

/// <summary>An upgrade waiting for an operator: the chart change, the values diff against the current revision, the Secrets it sets.</summary>
public sealed record AppUpgradeResponse(Guid Id, int FromRevision, string FromChartVersion, string ChartVersion, IReadOnlyList<ValueChange> Changes,
    IReadOnlyList<string> SecretsSet, string RequestedBy, DateTimeOffset RequestedAt)
{
    public static AppUpgradeResponse From(AppUpgradeRequest u, JsonObject currentValues) => new(u.Id, u.FromRevision, u.FromChartVersion,
        u.ChartVersion, AppValues.Diff(currentValues, u.Values), u.SecretsSet, u.RequestedBy, u.RequestedAt);
}

/// <summary>A withdrawn queued change: the commands cancelled (none reached the agent) and what the app's desired state became.</summary>
public sealed record CancelQueuedResponse(IReadOnlyList<Guid> Cancelled, string Effect);

/// <summary>Remove: the app's id, typed, confirms that its namespace and everything in it go; its data is kept unless DeleteData.</summary>
public sealed record RemoveAppRequest(string? Confirmation, bool DeleteData = false);

/// <summary>
/// <c>/api/v1/tenants/{tenant}/catalog</c> and <c>/api/v1/tenants/{tenant}/workspaces/{name}/apps</c>:
/// the catalog, and install, upgrade, rollback and remove of a workspace's apps. Every schema
/// violation is a 400 listing every problem by field (<c>values.&lt;path&gt;</c>); another tenant's
/// workspace or app is a 404.
/// </summary>
public static class AppsApi
{
    private const string NoWorkspace = "No such workspace in this tenant.";
    private const string NoApp = "No such app in this workspace.";

    public static IEndpointRouteBuilder MapAppsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/tenants/{tenant}/catalog", (AppCatalog catalog) => TypedResults.Ok(catalog.All.Select(CatalogAppResponse.From)))
            .RequireTenantRole(TenantRole.Viewer).WithTags("Apps").Produces<CatalogAppResponse[]>();
        var apps = endpoints.MapGroup("/api/v1/tenants/{tenant}/workspaces/{name}/apps").WithTags("Apps");
        apps.MapGet("", ListAsync).RequireTenantRole(TenantRole.Viewer).Produces<AppResponse[]>();
        apps.MapGet("/{app}", GetAsync).RequireTenantRole(TenantRole.Viewer).Produces<AppResponse>();
        apps.MapGet("/{app}/revisions", RevisionsAsync).RequireTenantRole(TenantRole.Viewer).Produces<AppRevision[]>();
        apps.MapPost("", InstallAsync).RequireTenantRole(TenantRole.Operator).Produces<AppChangeResponse>(StatusCodes.Status201Created);
        apps.MapPost("/{app}/upgrade", UpgradeAsync).RequireTenantRole(TenantRole.Operator)
            .Produces<AppChangeResponse>(StatusCodes.Status202Accepted);
        apps.MapGet("/{app}/upgrades/pending", PendingUpgradeAsync).RequireTenantRole(TenantRole.Viewer).Produces<AppUpgradeResponse>();
        apps.MapPost("/{app}/upgrades/{upgrade:guid}/approve", ApproveUpgradeAsync).RequireTenantRole(TenantRole.Operator)
            .Produces<AppChangeResponse>(StatusCodes.Status202Accepted);
        apps.MapPost("/{app}/upgrades/{upgrade:guid}/reject", RejectUpgradeAsync).RequireTenantRole(TenantRole.Operator)
            .Produces<AppChangeResponse>(StatusCodes.Status202Accepted);
        apps.MapPost("/{app}/rollback", RollbackAsync).RequireTenantRole(TenantRole.Operator)
            .Produces<AppChangeResponse>(StatusCodes.Status202Accepted);
        apps.MapPost("/{app}/remove", RemoveAsync).RequireTenantRole(TenantRole.Operator).Produces<AppChangeResponse>(StatusCodes.Status202Accepted);
        apps.MapGet("/{app}/commands/queued", QueuedAsync).RequireTenantRole(TenantRole.Viewer).Produces<QueuedAppCommand[]>();
        apps.MapPost("/{app}/commands/{command:guid}/cancel", CancelQueuedAsync).RequireTenantRole(TenantRole.Operator)
            .Produces<CancelQueuedResponse>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);
        return endpoints;
    }

    private static async Task<IResult> ListAsync(string name, TenantContext context, WorkspaceStore store, WorkspaceApps apps,
        CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        var domain = workspace.DomainIn(context.Tenant.Domain);
        return TypedResults.Ok((await apps.ListAsync(context.TenantId, workspace.Id, cancellationToken)).Select(v => AppResponse.From(v, domain)));
    }

    private static async Task<IResult> GetAsync(string name, string app, TenantContext context, WorkspaceStore store, WorkspaceApps apps,
        CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        return await apps.FindAsync(context.TenantId, workspace.Id, app, cancellationToken) is { } view
            ? TypedResults.Ok(AppResponse.From(view, workspace.DomainIn(context.Tenant.Domain)))
            : NotFound(NoApp);
    }

    private static async Task<IResult> RevisionsAsync(string name, string app, TenantContext context, WorkspaceStore store, WorkspaceApps apps,
        CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        if (await apps.FindAsync(context.TenantId, workspace.Id, app, cancellationToken) is not { } view) return NotFound(NoApp);
        return TypedResults.Ok(await apps.RevisionsAsync(context.TenantId, view.App.Id, cancellationToken));
    }

    private static async Task<IResult> InstallAsync(string name, InstallAppRequest request, TenantContext context, ClaimsPrincipal user,
        WorkspaceStore store,
        WorkspaceApps apps, CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        if (!Enum.TryParse<AppDatabaseChoice>(request.Database ?? nameof(AppDatabaseChoice.Bundled), ignoreCase: true, out var database)
            || !Enum.IsDefined(database) || int.TryParse(request.Database, out _))
            return TypedResults.ValidationProblem(FieldErrors.Single("database", "database must be 'workspace' or 'bundled'.").ToDictionary(),
                title: "The request has problems; nothing was changed.");
        var result = await apps.InstallAsync(context.TenantId, workspace, request.App ?? "", request.ChartVersion, request.Values, request.Secrets,
            database, user.AsActor(), cancellationToken);
        return Answer(result, context, workspace, apps, created: true, cancellationToken);
    }

    private static async Task<IResult> UpgradeAsync(string name, string app, UpgradeAppRequest request, TenantContext context, ClaimsPrincipal user,
        WorkspaceStore store, WorkspaceApps apps, CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        var result = await apps.UpgradeAsync(context.TenantId, workspace, app, request.ChartVersion, request.Values, request.Secrets, user.AsActor(),
            cancellationToken);
        if (!result.Succeeded || workspace.ApprovalMode != ApprovalMode.Manual) return Answer(result, context, workspace, apps, created: false,
            cancellationToken);
        var pending = await apps.PendingUpgradeAsync(context.TenantId, result.Value!.Id, cancellationToken);
        return Answer(result, context, workspace, apps, created: false, cancellationToken,
            pending is null ? null : AppUpgradeResponse.From(pending, result.Value.Values));
    }

    private static async Task<IResult> PendingUpgradeAsync(string name, string app, TenantContext context, WorkspaceStore store, WorkspaceApps apps,
        CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        if (await apps.FindAsync(context.TenantId, workspace.Id, app, cancellationToken) is not { } view) return NotFound(NoApp);
        return await apps.PendingUpgradeAsync(context.TenantId, view.App.Id, cancellationToken) is { } pending
            ? TypedResults.Ok(AppUpgradeResponse.From(pending, view.App.Values))
            : NotFound("No upgrade of this app waits for approval.");
    }

    private static async Task<IResult> ApproveUpgradeAsync(string name, string app, Guid upgrade, TenantContext context, ClaimsPrincipal user,
        WorkspaceStore store, WorkspaceApps apps, CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        var result = await apps.ApproveUpgradeAsync(context.TenantId, workspace, app, upgrade, user.AsActor(), cancellationToken);
        return Answer(result, context, workspace, apps, created: false, cancellationToken);
    }

    private static async Task<IResult> RejectUpgradeAsync(string name, string app, Guid upgrade, TenantContext context, ClaimsPrincipal user,
        WorkspaceStore store, WorkspaceApps apps, CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        var result = await apps.RejectUpgradeAsync(context.TenantId, workspace, app, upgrade, user.AsActor(), cancellationToken);
        return Answer(result, context, workspace, apps, created: false, cancellationToken);
    }

    private static async Task<IResult> RollbackAsync(string name, string app, RollbackAppRequest request, TenantContext context, ClaimsPrincipal user,
        WorkspaceStore store, WorkspaceApps apps, CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        var result = await apps.RollbackAsync(context.TenantId, workspace, app, request.Revision, user.AsActor(), cancellationToken);
        return Answer(result, context, workspace, apps, created: false, cancellationToken);
    }

    private static async Task<IResult> RemoveAsync(string name, string app, RemoveAppRequest request, TenantContext context, ClaimsPrincipal user,
        WorkspaceStore store, WorkspaceApps apps, CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        var result = await apps.RemoveAsync(context.TenantId, workspace, app, request.Confirmation, request.DeleteData, user.AsActor(),
            cancellationToken);
        return Answer(result, context, workspace, apps, created: false, cancellationToken);
    }

    private static async Task<IResult> QueuedAsync(string name, string app, TenantContext context, WorkspaceStore store, WorkspaceApps apps,
        CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        if (await apps.FindAsync(context.TenantId, workspace.Id, app, cancellationToken) is not { } view) return NotFound(NoApp);
        return TypedResults.Ok(await apps.QueuedAsync(context.TenantId, view.App.Id, cancellationToken));
    }

    /// <summary>Withdraws a queued command (and the rest of its change) the agent has not taken: 404 for another tenant's or app's id,
    /// 409 once the agent has it.</summary>
    private static async Task<IResult> CancelQueuedAsync(string name, string app, Guid command, TenantContext context, ClaimsPrincipal user,
        WorkspaceStore store, WorkspaceApps apps, CancellationToken cancellationToken)
    {
        if (await LiveWorkspaceAsync(store, context, name, cancellationToken) is not { } workspace) return NotFound(NoWorkspace);
        var result = await apps.CancelQueuedAsync(context.TenantId, workspace, app, command, user.AsActor(), cancellationToken);
        return result.Outcome switch
        {
            CancelOutcome.Cancelled => TypedResults.Accepted($"/api/v1/tenants/{context.Slug}/workspaces/{workspace.Name}/apps/{app}",
                new CancelQueuedResponse(result.Cancelled, result.Message)),
            CancelOutcome.Conflict => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The command cannot be withdrawn.",
                detail: result.Message),
            _ => NotFound(result.Message),
        };
    }

    private static IResult Answer(CommandResult<WorkspaceApp> result, TenantContext context, Workspace workspace, WorkspaceApps apps, bool created,
        CancellationToken cancellationToken, AppUpgradeResponse? awaitingApproval = null)
    {
        if (result.IsNotFound) return NotFound(NoApp);
        if (!result.Errors.IsEmpty) return TypedResults.ValidationProblem(result.Errors.ToDictionary(),
            title: "The request has problems; nothing was changed.");
        var app = result.Value!;
        var location = $"/api/v1/tenants/{context.Slug}/workspaces/{workspace.Name}/apps/{app.App}";
        var body = new AppChangeResponse(app.Id, app.App, app.Namespace, app.ChartVersion, app.Revision, app.DesiredState.ToString(),
            awaitingApproval);
        return created ? TypedResults.Created(location, body) : TypedResults.Accepted(location, body);
    }

    private static async Task<Workspace?> LiveWorkspaceAsync(WorkspaceStore store, TenantContext context, string name,
        CancellationToken cancellationToken) =>
        await store.FindByNameAsync(context.TenantId, name, cancellationToken) is { Status: not WorkspaceStatus.Destroyed } workspace ? workspace
            : null;

    private static IResult NotFound(string title) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: title);
}
