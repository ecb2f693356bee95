using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Jobs;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Audit;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>
/// Step 3: every agent still active in the subtree gets a signed agent.uninstall (with keepApps for a workspace the tenant keeps): it hands
/// over or deletes the app namespaces, then removes its roles, bindings, namespace and itself. An agent that is offline, or does not answer
/// within <see cref="OffboardingOptions.AgentUninstallWithin"/>, is listed with the kubectl commands that remove it by hand. Agents of
/// destroyed workspaces went with their cluster. Idempotent: the command has one idempotency key per offboarding and agent.
/// </summary>
public sealed class UninstallAgentsStep(
    NpgsqlDataSource dataSource, AgentCommandQueue queue, AgentRegistry registry, IOptions<OffboardingOptions> options, TimeProvider time)
    : IOffboardingStep
{
    public OffboardingStep Step => OffboardingStep.UninstallAgents;

    /// <summary>An agent's answer to its uninstall announces itself with the agent as the subject (migration 0050).</summary>
    public IEnumerable<WakeSubject> WakesOn(OffboardingPlan plan) => plan.Agents.Select(a => new WakeSubject(a.TenantId, a.Id));

    public async Task<StepOutcome> RunAsync(OffboardingRecord offboarding, OffboardingPlan plan, Actor actor, JobContext context)
    {
        var cancellationToken = context.CancellationToken;
        var now = time.GetUtcNow();
        var destroyed = plan.Workspaces.Where(w => w.Fate == WorkspaceFate.Destroy).Select(w => w.Id).ToHashSet();
        var keep = plan.Workspaces.Where(w => w.Fate == WorkspaceFate.Keep).Select(w => w.Id).ToHashSet();
        var done = new List<string>();
        var manual = new List<string>();
        var waiting = false;
        foreach (var agent in await AgentsAsync(plan, cancellationToken))
        {
            if (destroyed.Contains(agent.WorkspaceId))
            {
                done.Add($"Agent {agent.Name}: its cluster was destroyed with workspace {WorkspaceName(plan, agent.WorkspaceId)}.");
                continue;
            }
            var key = $"offboarding:{offboarding.Id}:uninstall";
            var sent = await CommandAsync(agent.Id, key, cancellationToken);
            if (sent is null && (agent.LastSeenAt is null || now - agent.LastSeenAt > registry.OfflineAfter))
            {
                manual.Add(ManualRemoval(agent.Name, "is offline"));
                continue;
            }
            if (sent is null)
            {
                var payload = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(new UninstallPayload(keep.Contains(agent.WorkspaceId)),
                    ProtocolJson.Default.UninstallPayload))!.AsObject();
                await queue.EnqueueAsync(new NewAgentCommand(agent.TenantId, agent.Id, CommandTypes.Uninstall, payload, key,
                    options.Value.AgentUninstallWithin), actor, cancellationToken);
                sent = await CommandAsync(agent.Id, key, cancellationToken);
            }
            switch (sent)
            {
                case { Status: "succeeded" }:
                    done.Add($"Agent {agent.Name}: uninstalled ({sent.Message}).");
                    break;
                case { Status: "pending" } when now - sent.CreatedAt < options.Value.AgentUninstallWithin:
                    waiting = true;
                    done.Add($"Agent {agent.Name}: uninstalling.");
                    break;
                default:
                    manual.Add(ManualRemoval(agent.Name, sent is null ? "took no command" : $"did not uninstall ({sent.Status}: {sent.Message})"));
                    break;
            }
        }
        if (done.Count == 0 && manual.Count == 0) done.Add("No agent was left to uninstall.");
        return waiting ? StepOutcome.Waiting(done, options.Value.WaitInterval) : StepOutcome.Finished(done, manual);
    }

    /// <summary>The kubectl commands that remove an agent the way agent.uninstall does, for an agent that cannot do it itself.</summary>
    public static string ManualRemoval(string agentName, string why) =>
        $"""
        Agent {agentName} {why}. Remove it by hand with cluster-admin rights (its credentials are revoked in the next step either way):
          kubectl label namespace -l {AgentLabels.ManagedSelector} {AgentLabels.ManagedBy}-      # keep your apps' namespaces, or delete them: kubectl delete namespace -l {AgentLabels.ManagedSelector}
          kubectl delete rolebinding {AgentInstall.WorkloadRoleBinding} -A --field-selector metadata.name={AgentInstall.WorkloadRoleBinding} --ignore-not-found
          kubectl delete namespace {AgentInstall.Namespace} --ignore-not-found
          kubectl delete clusterrolebinding {AgentInstall.ClusterRoleBinding} {AgentInstall.SupportReader} --ignore-not-found
          kubectl delete clusterrole {AgentInstall.ClusterRole} {AgentInstall.WorkloadClusterRole} {AgentInstall.SupportReader} --ignore-not-found
        """;

    private static string WorkspaceName(OffboardingPlan plan, Guid workspaceId) =>
        plan.Workspaces.FirstOrDefault(w => w.Id == workspaceId)?.Name ?? workspaceId.ToString();

    private sealed record SentCommand(string Status, string? Message, DateTimeOffset CreatedAt);

    private async Task<SentCommand?> CommandAsync(Guid agentId, string key, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<(string Status, string? Message, DateTime CreatedAt)?>(new CommandDefinition(
            "select status, result_message, created_at from agent_commands where agent_id = @agentId and idempotency_key = @key",
            new { agentId, key }, cancellationToken: cancellationToken));
        return row is { } r ? new SentCommand(r.Status, r.Message, new DateTimeOffset(DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc))) : null;
    }

    /// <summary>Agents active now, plus those this offboarding already sent its uninstall to (they are 'uninstalled' once it succeeded).</summary>
    private async Task<IReadOnlyList<PlannedAgent>> AgentsAsync(OffboardingPlan plan, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<PlannedAgent>(new CommandDefinition("""
            select id, tenant_id as TenantId, workspace_id as WorkspaceId, name, status, last_seen_at as LastSeenAt
            from agents where tenant_id = any(@ids) and (status = 'active' or id = any(@planned)) order by name
            """, new { ids = plan.TenantIds.ToArray(), planned = plan.Agents.Select(a => a.Id).ToArray() },
            cancellationToken: cancellationToken))).ToList();
    }
}
