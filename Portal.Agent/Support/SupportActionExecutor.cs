using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Agent.Commands;
using Cogrion.Agent.Protocol;
using Cogrion.Kubernetes;

namespace Cogrion.Agent.Support;

/// <summary>
/// support.action: one read of a support session. The ledger decides first (grant known, not ended, inside its
/// window by the agent's clock, action inside its scope); a refusal is reported as rejected with its reason and
/// nothing is read. Reads are limited to the kinds listed here in namespaces the agent manages: there is no path
/// from a support action to a Secret or a ConfigMap, and container environment values are left out of descriptions. The reads
/// themselves act as the read-only support identity (<see cref="SupportReadClient"/>), so the cluster enforces that too; only the
/// list of managed namespaces is read as the agent.
/// </summary>
public sealed class SupportActionExecutor(SupportLedger ledger, NamespaceRules rules, IKubernetesClient kubernetes, SupportReadClient reader)
    : ICommandExecutor
{
    public const int MaxTailLines = 1000;
    private const int MaxItems = 200;

    private static readonly Dictionary<string, string> DescribableKinds = new(StringComparer.Ordinal)
    {
        ["Pod"] = "v1",
        ["Deployment"] = "apps/v1",
        ["StatefulSet"] = "apps/v1",
    };

    public string Type => CommandTypes.SupportAction;

    public async Task<CommandOutcome> ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var payload = command.Payload.Deserialize(ProtocolJson.Default.SupportActionPayload)
            ?? throw new InvalidPayloadException("grantId and action are required.");
        if (ledger.Refusal(payload.GrantId, payload.Action) is { } refusal) return SupportApproversExecutor.Refuse(refusal);
        return payload.Action switch
        {
            SupportActions.List => await ListAsync(payload.Namespace, cancellationToken),
            SupportActions.Describe => await DescribeAsync(payload, cancellationToken),
            SupportActions.Logs => await LogsAsync(payload, cancellationToken),
            _ => SupportApproversExecutor.Refuse($"action '{payload.Action}' is unknown"),
        };
    }

    private async Task<CommandOutcome> ListAsync(string? onlyNamespace, CancellationToken cancellationToken)
    {
        IEnumerable<string> namespaces;
        if (onlyNamespace is not null)
        {
            await rules.RequireManagedAsync(onlyNamespace, cancellationToken);
            namespaces = [onlyNamespace];
        }
        else
        {
            namespaces = (await kubernetes.ListAsync("v1", "Namespace", null, AgentLabels.ManagedSelector, cancellationToken))
                .Select(n => n["metadata"]!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
        }
        var workloads = new JsonArray();
        var pods = new JsonArray();
        var events = new JsonArray();
        foreach (var ns in namespaces)
        {
            foreach (var kind in new[] { "Deployment", "StatefulSet" })
                foreach (var w in await reader.Kubernetes.ListAsync("apps/v1", kind, ns, null, cancellationToken))
                    Add(workloads, new JsonObject
                    {
                        ["kind"] = kind,
                        ["namespace"] = ns,
                        ["name"] = Text(w["metadata"]?["name"]),
                        ["desired"] = w["spec"]?["replicas"]?.DeepClone() ?? 1,
                        ["ready"] = w["status"]?["readyReplicas"]?.DeepClone() ?? 0,
                    });
            foreach (var p in await reader.Kubernetes.ListAsync("v1", "Pod", ns, null, cancellationToken)) Add(pods, PodSummary(ns, p));
            foreach (var e in await reader.Kubernetes.ListAsync("v1", "Event", ns, null, cancellationToken))
                Add(events, new JsonObject
                {
                    ["namespace"] = ns,
                    ["type"] = Text(e["type"]),
                    ["reason"] = Text(e["reason"]),
                    ["object"] = $"{Text(e["involvedObject"]?["kind"])}/{Text(e["involvedObject"]?["name"])}",
                    ["message"] = Text(e["message"]),
                    ["count"] = e["count"]?.DeepClone(),
                    ["lastTimestamp"] = Text(e["lastTimestamp"]) ?? Text(e["eventTime"]),
                });
        }
        return CommandOutcome.Succeeded($"Listed {workloads.Count} workload(s), {pods.Count} pod(s) and {events.Count} event(s).",
            new JsonObject { ["workloads"] = workloads, ["pods"] = pods, ["events"] = events });
    }

    private async Task<CommandOutcome> DescribeAsync(SupportActionPayload payload, CancellationToken cancellationToken)
    {
        if (payload.Kind is null || !DescribableKinds.TryGetValue(payload.Kind, out var apiVersion))
            return SupportApproversExecutor.Refuse($"a support session describes {string.Join(", ", DescribableKinds.Keys)} only");
        await rules.RequireManagedAsync(payload.Namespace, cancellationToken);
        var name = RequireName(payload.Name);
        var found = await reader.Kubernetes.GetAsync(new ObjectReference(apiVersion, payload.Kind, name, payload.Namespace), cancellationToken);
        if (found is null) return CommandOutcome.Failed($"{payload.Kind} {payload.Namespace}/{name} does not exist.");
        return CommandOutcome.Succeeded($"Described {payload.Kind} {payload.Namespace}/{name}.", new JsonObject { ["object"] = Redact(found) });
    }

    private async Task<CommandOutcome> LogsAsync(SupportActionPayload payload, CancellationToken cancellationToken)
    {
        await rules.RequireManagedAsync(payload.Namespace, cancellationToken);
        var name = RequireName(payload.Name);
        var lines = Math.Clamp(payload.TailLines ?? 100, 1, MaxTailLines);
        var text = await reader.Kubernetes.ReadLogAsync(payload.Namespace!, name, payload.Container, lines, cancellationToken);
        var kept = text.Split('\n').TakeLast(lines + 1).ToArray();
        return CommandOutcome.Succeeded($"Read the last {lines} line(s) of " +
            $"{payload.Namespace}/{name}{(payload.Container is null ? "" : "/" + payload.Container)}.",
            new JsonObject { ["lines"] = new JsonArray(kept.Where(l => l.Length > 0).Select(l => (JsonNode)l).ToArray()) });
    }

    private static JsonObject PodSummary(string ns, JsonObject pod)
    {
        var statuses = (pod["status"]?["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        return new JsonObject
        {
            ["namespace"] = ns,
            ["name"] = Text(pod["metadata"]?["name"]),
            ["phase"] = Text(pod["status"]?["phase"]),
            ["ready"] = statuses.Count > 0 && statuses.All(s => s["ready"]?.GetValue<bool>() == true),
            ["restarts"] = statuses.Sum(s => s["restartCount"]?.GetValue<int>() ?? 0),
            ["containers"] = new JsonArray((pod["spec"]?["containers"] as JsonArray ?? []).Select(c => (JsonNode?)Text(c?["name"])).ToArray()),
            ["waiting"] = statuses.Select(s => Text(s["state"]?["waiting"]?["reason"])).FirstOrDefault(r => r is not null),
        };
    }

    /// <summary>
    /// A description without what could carry a value: container environment values (literal or referenced), the
    /// last-applied annotation (a full copy of the spec) and managed fields. Names of variables stay: they help.
    /// </summary>
    private static JsonObject Redact(JsonObject found)
    {
        var copy = found.DeepClone().AsObject();
        if (copy["metadata"] is JsonObject metadata)
        {
            metadata.Remove("managedFields");
            (metadata["annotations"] as JsonObject)?.Remove("kubectl.kubernetes.io/last-applied-configuration");
        }
        var podSpec = copy["kind"]?.GetValue<string>() == "Pod" ? copy["spec"] : copy["spec"]?["template"]?["spec"];
        foreach (var list in new[] { "containers", "initContainers" })
            foreach (var container in (podSpec?[list] as JsonArray ?? []).OfType<JsonObject>())
                foreach (var variable in (container["env"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    variable.Remove("value");
                    variable.Remove("valueFrom");
                    variable["value"] = "(not shown)";
                }
        return copy;
    }

    private static string RequireName(string? name) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= 253 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
            ? name
            : throw new InvalidPayloadException($"'{name}' is not a valid object name.");

    private static void Add(JsonArray list, JsonObject item)
    {
        if (list.Count < MaxItems) list.Add((JsonNode)item);
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
