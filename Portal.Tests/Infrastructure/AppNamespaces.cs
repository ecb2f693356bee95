using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Infrastructure.Audit;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The one way a test gets an app namespace: as an install makes it. The catalog's namespace.ensure payload
/// (<see cref="AppManifests.Namespace"/>, the first command an install enqueues) goes through the Portal's
/// <see cref="AgentCommandQueue"/>, which signs it; the real agent binary fetches it over HTTP and its executor creates the
/// namespace, the workload RoleBinding, the quota and the default-deny policy under the agent's own RBAC. Never written with
/// the cluster admin's credentials: a copy of the executor's objects would let a test pass where production's namespace is
/// different, or refused.
/// </summary>
public static class AppNamespaces
{
    /// <summary>The catalog app whose namespace a test gets unless it names another (its quota and Pod Security level).</summary>
    public const string DefaultApp = "airflow";

    /// <summary>Generous: on a loaded machine the agent's long poll, its API calls and the result's round trip all queue.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>The catalog the Portal loads (catalog/ of the repository; the Portal's copy next to its binary is the same files).</summary>
    private static readonly Lazy<AppCatalog> Catalog = new(() => new AppCatalog(Path.Combine(RepoPaths.Root, "catalog")));

    /// <summary>The payload an install of <paramref name="app"/> enqueues, for the namespace <paramref name="ns"/>.</summary>
    public static JsonObject Payload(string ns, string app = DefaultApp)
    {
        var definition = Catalog.Value.Find(app) ?? throw new ArgumentException($"There is no app '{app}' in the catalog.", nameof(app));
        return JsonSerializer.SerializeToNode(AppManifests.Namespace(definition, ns), ProtocolJson.Default.EnsureNamespacePayload)!.AsObject();
    }

    /// <summary>Ensures the namespace through <paramref name="portal"/> and the agent, and returns once the agent reported it succeeded.</summary>
    public static async Task<AgentCommandAnswer> EnsureAppNamespaceAsync(this PortalServer portal, Guid tenantId, Guid agentId, string ns,
        Actor actor, string app = DefaultApp, TimeSpan? deadline = null)
    {
        var answer = await portal.TryEnsureAppNamespaceAsync(tenantId, agentId, ns, actor, app, deadline);
        Assert.True(answer.Status == CommandOutcomes.Succeeded, $"namespace.ensure {ns} ended {answer.Status}: {answer.ResultMessage}");
        return answer;
    }

    /// <summary>The same command, for a test that expects it may fail: the agent's answer, whatever it was.</summary>
    public static async Task<AgentCommandAnswer> TryEnsureAppNamespaceAsync(this PortalServer portal, Guid tenantId, Guid agentId, string ns,
        Actor actor, string app = DefaultApp, TimeSpan? deadline = null)
    {
        var queue = portal.Get<AgentCommandQueue>();
        var queued = await queue.EnqueueAsync(new NewAgentCommand(tenantId, agentId, CommandTypes.EnsureNamespace,
            Payload(ns, app)), actor, CancellationToken.None)
            ?? throw new InvalidOperationException($"Agent {agentId} is not an active agent of tenant {tenantId}: no namespace {ns} through it.");
        var answer = await Eventually.ValueAsync(() => queue.AnswerAsync(tenantId, queued.Id, CancellationToken.None),
            a => CommandOutcomes.IsKnown(a?.Status), $"the agent's answer to namespace.ensure {ns} (command {queued.Id})",
            deadline ?? Deadline);
        return answer!;
    }
}
