using System.Security.Claims;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Workspaces;

public sealed record CreateWorkspaceRequest(
    Guid? CloudAccountId, string? Region, string? Name, string? NetworkCidr, string? KubernetesVersion,
    bool UseKarpenter, IReadOnlyList<NodePoolInput>? NodePools, DatabaseInput? Database, string? ApprovalMode);

public sealed record WorkspaceResponse(
    Guid Id, string Name, string Domain, string Provider, Guid CloudAccountId, string Region, string NetworkCidr, string KubernetesVersion,
    IReadOnlyList<NodePoolInput> NodePools, bool UseKarpenter, DatabaseInput? Database, string ApprovalMode, string Status, string? StatusReason,
    IReadOnlyDictionary<string, string>? Outputs, DateTimeOffset CreatedAt)
{
    public static WorkspaceResponse From(Workspace w, string tenantDomain) => new(w.Id, w.Name, w.DomainIn(tenantDomain), w.Provider.ToDbText(),
        w.CloudAccountId, w.Region, w.NetworkCidr, w.KubernetesVersion, w.NodePools, w.UseKarpenter, w.Database,
        w.ApprovalMode.ToDbText(), w.Status.ToDbText(), w.StatusReason, w.Outputs, w.CreatedAt);
}

/// <summary>
/// Release a stale state lock: <paramref name="LockId"/> is the lock the workspace page (or the last run's
/// error) shows, <paramref name="Confirmation"/> the workspace's name, typed.
/// </summary>
public sealed record ReleaseStateLockRequest(string? LockId, string? Confirmation);

/// <summary>A run as the API shows it.</summary>
/// <param name="KubernetesVersion">The version an upgrade run sets; null for other kinds.</param>
public sealed record RunResponse(Guid Id, string Kind, string Status, string? Stage, string? Error, string RequestedBy, DateTimeOffset CreatedAt,
    string? KubernetesVersion = null)
{
    public static RunResponse From(WorkspaceRun run) =>
        new(run.Id, run.Kind.ToDbText(), run.Status.ToDbText(), run.Stage, run.Error, run.RequestedBy, run.CreatedAt, run.KubernetesVersion);
}

/// <summary>
/// <c>/api/v1/tenants/{tenant}/workspaces</c>: list, get and create, with the wizard's rules and field names;
/// the release of a state lock left by a killed process (an unlock run, 202 Accepted), and a Kubernetes upgrade
/// to the provider's next minor version (an upgrade run, 202 Accepted).
/// </summary>
public static class WorkspacesApi
{
    public static IEndpointRouteBuilder MapWorkspacesApi(this IEndpointRouteBuilder endpoints)
    {
        var workspaces = endpoints.MapGroup("/api/v1/tenants/{tenant}/workspaces").WithTags("Workspaces");
        workspaces.MapGet("", ListAsync).RequireTenantRole(TenantRole.Viewer).Produces<WorkspaceResponse[]>();
        workspaces.MapGet("/{name}", GetAsync).RequireTenantRole(TenantRole.Viewer).Produces<WorkspaceResponse>();
        workspaces.MapPost("", CreateAsync).RequireTenantRole(TenantRole.Operator).Produces<WorkspaceResponse>(StatusCodes.Status201Created);
        workspaces.MapPost("/{name}/state-lock/release", ReleaseStateLockAsync).RequireTenantRole(TenantRole.Operator)
            .Produces<RunResponse>(StatusCodes.Status202Accepted);
        workspaces.MapPost("/{name}/kubernetes/upgrade", UpgradeKubernetesAsync).RequireTenantRole(TenantRole.Operator)
            .Produces<RunResponse>(StatusCodes.Status202Accepted);
        return endpoints;
    }

    private static async Task<IResult> UpgradeKubernetesAsync(string name, TenantContext context, ClaimsPrincipal user,
        WorkspaceStore store, WorkspaceCommands commands, CancellationToken cancellationToken)
    {
        // Found by name within the caller's tenant only: another tenant's workspace is simply not found.
        if (await store.FindByNameAsync(context.TenantId, name, cancellationToken) is not { Status: not WorkspaceStatus.Destroyed } workspace)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such workspace in this tenant.");
        var result = await commands.UpgradeKubernetesAsync(context.TenantId, workspace.Id, user.AsActor(), cancellationToken);
        if (result.IsNotFound) return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such workspace in this tenant.");
        if (!result.Errors.IsEmpty) return TypedResults.ValidationProblem(result.Errors.ToDictionary());
        return TypedResults.Accepted((string?)null, RunResponse.From(result.Value!));
    }

    private static async Task<IResult> ReleaseStateLockAsync(string name, ReleaseStateLockRequest request, TenantContext context,
        ClaimsPrincipal user,
        WorkspaceStore store, WorkspaceCommands commands, CancellationToken cancellationToken)
    {
        if (await store.FindByNameAsync(context.TenantId, name, cancellationToken) is not { Status: not WorkspaceStatus.Destroyed } workspace)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such workspace in this tenant.");
        var result = await commands.ReleaseStateLockAsync(context.TenantId, workspace.Id, request.LockId, request.Confirmation, user.AsActor(),
            cancellationToken);
        if (result.IsNotFound) return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such workspace in this tenant.");
        if (!result.Errors.IsEmpty) return TypedResults.ValidationProblem(result.Errors.ToDictionary());
        return TypedResults.Accepted((string?)null, RunResponse.From(result.Value!));
    }

    private static async Task<IResult> ListAsync(TenantContext context, WorkspaceStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok((await store.ListAsync(context.TenantId, includeDestroyed: false, cancellationToken))
            .Select(s => WorkspaceResponse.From(s.Workspace, context.Tenant.Domain)));

    private static async Task<IResult> GetAsync(string name, TenantContext context, WorkspaceStore store, CancellationToken cancellationToken) =>
        await store.FindByNameAsync(context.TenantId, name, cancellationToken) is { } workspace
            ? TypedResults.Ok(WorkspaceResponse.From(workspace, context.Tenant.Domain))
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such workspace in this tenant.");

    private static async Task<IResult> CreateAsync(CreateWorkspaceRequest request, TenantContext context, ClaimsPrincipal user,
        WorkspaceCommands commands, CancellationToken cancellationToken)
    {
        if (!Enum.TryParse<ApprovalMode>(request.ApprovalMode ?? "manual", ignoreCase: true, out var approval)
            || int.TryParse(request.ApprovalMode, out _))
            return TypedResults.ValidationProblem(FieldErrors.Single("approvalMode", "automatic or manual.").ToDictionary());
        var input = new NewWorkspace
        {
            CloudAccountId = request.CloudAccountId,
            Region = request.Region,
            Name = request.Name,
            NetworkCidr = request.NetworkCidr,
            KubernetesVersion = request.KubernetesVersion,
            UseKarpenter = request.UseKarpenter,
            NodePools = request.NodePools ?? [],
            Database = request.Database,
            ApprovalMode = approval,
        };
        var result = await commands.CreateAsync(context.TenantId, input, user.AsActor(), cancellationToken);
        if (!result.Errors.IsEmpty) return TypedResults.ValidationProblem(result.Errors.ToDictionary());
        var workspace = result.Value!;
        return TypedResults.Created($"/api/v1/tenants/{context.Slug}/workspaces/{workspace.Name}",
            WorkspaceResponse.From(workspace, context.Tenant.Domain));
    }
}
