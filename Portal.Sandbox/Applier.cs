using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// Applies a saved plan wave by wave, resources of a wave concurrently, printing each resource's
/// start, its "still creating" progress every ten simulated seconds and its completion, and
/// saving the state after each. On an interrupt or a failure, what is in flight ends and nothing new
/// starts, as in OpenTofu.
/// </summary>
public sealed class Applier(Ui ui, SandboxState state, Scenario scenario, RootModule? root, ClusterEffects? cluster = null)
{
    private const double ProgressEvery = 10;
    private readonly List<Diagnostic> errors = [];
    private readonly Lock gate = new();

    public async Task<int> ApplyAsync(SandboxPlan plan, CancellationToken interrupt)
    {
        var destroy = plan.Operation == "destroy";
        var bootstrap = BootstrapStack.Matches(plan.Variables);
        var created = plan.Changes.Where(c => c.Actions.Contains("create")).Select(c => c.Resource).ToList();
        var failOn = destroy ? null
            : bootstrap ? (scenario.FailBootstrap ? BootstrapStack.FailureTarget(created)?.Address : null)
            : scenario.FailApply ? SandboxStack.FailureTarget(created)?.Address : null;

        // Creations and updates by wave; removals afterwards, dependents first.
        var forward = plan.Changes.Where(c => !c.Actions.SequenceEqual(["delete"])).GroupBy(c => c.Resource.Wave).OrderBy(g => g.Key);
        var backward = plan.Changes.Where(c => c.Actions.SequenceEqual(["delete"])).GroupBy(c => c.Resource.Wave).OrderByDescending(g => g.Key);
        int added = 0, changed = 0, removed = 0;
        foreach (var wave in forward.Concat(backward))
        {
            // After an error nothing new starts; what was in flight has finished.
            if (interrupt.IsCancellationRequested || HasErrors) break;
            var results = await Task.WhenAll(wave.Select(change => ApplyOneAsync(change, change.Resource.Address == failOn, interrupt)));
            foreach (var change in results.Where(r => r is not null).Select(r => r!))
            {
                if (change.Actions.Contains("create")) added++;
                if (change.Actions is ["update"]) changed++;
                if (change.Actions.Contains("delete")) removed++;
            }
        }

        if (interrupt.IsCancellationRequested)
        {
            ui.Diagnostic(Diagnostic.Error("execution halted", ""));
            return 1;
        }
        if (errors.Count > 0)
        {
            foreach (var error in errors) ui.Diagnostic(error);
            return 1;
        }

        state.SetOutputs(destroy ? [] : OutputValues(plan));
        ui.ChangeSummary(added, changed, removed, destroy ? "destroy" : "apply");
        var shown = new JsonObject();
        foreach (var (name, output) in state.Outputs)
            shown[name] = output!.DeepClone();
        ui.Outputs(shown);
        return 0;
    }

    /// <summary>Returns the change when it completed, null when it failed or was cut short.</summary>
    private bool HasErrors { get { lock (gate) return errors.Count > 0; } }

    private async Task<PlannedChange?> ApplyOneAsync(PlannedChange change, bool fail, CancellationToken stop)
    {
        var resource = change.Resource;
        var replace = change.Actions.Length == 2;
        var existingId = state.Find(resource.Address)?.Id;

        if (replace || change.Actions is ["delete"])
        {
            if (!await StepAsync(resource, "delete", existingId, Math.Max(1, resource.Seconds / 3), false, stop, effect: "delete")) return null;
            state.Remove(resource.Address);
            if (!replace) return change;
        }
        var action = change.Actions is ["update"] ? "update" : "create";
        var id = action == "update" ? existingId! : resource.NewId(root?.IdSeed ?? "");
        if (!await StepAsync(resource, action, action == "update" ? id : null, action == "update" ? Math.Max(1, resource.Seconds / 4)
            : resource.Seconds, fail, stop, id, effect: action)) return null;
        state.Put(resource, id);
        return change;
    }

    private async Task<bool> StepAsync(SimResource resource, string action, string? startId, int seconds, bool fail, CancellationToken stop,
        string? completeId = null, string? effect = null)
    {
        var (verb, progressive, noun) = action switch
        {
            "create" => ("Creating", "creating", "Creation"),
            "update" => ("Modifying", "modifying", "Modifications"),
            _ => ("Destroying", "destroying", "Destruction"),
        };
        ui.Hook("apply_start", $"{resource.Address}: {verb}...{(startId is null ? "" : $" [id={startId}]")}", resource, action, id: startId);
        var clock = Stopwatch.StartNew();
        double Elapsed() => Math.Min(seconds, clock.Elapsed.TotalSeconds * scenario.Speed);
        var failAt = fail ? Math.Max(1, seconds * 0.8) : double.MaxValue;
        try
        {
            for (var done = 0.0; done < seconds;)
            {
                var step = Math.Min(ProgressEvery, Math.Min(seconds, failAt) - done);
                await scenario.PauseAsync(step, stop);
                done += step;
                if (done >= failAt)
                {
                    ui.Hook("apply_errored", $"{resource.Address}: {noun} errored after {FormatElapsed(done)}", resource, action, done);
                    lock (gate) errors.Add(FailureFor(resource));
                    return false;
                }
                if (done < seconds)
                    ui.Hook("apply_progress", $"{resource.Address}: Still {progressive}... [{FormatElapsed(done)} elapsed]", resource, action, done);
            }
        }
        catch (OperationCanceledException)
        {
            // Interrupted: the provider's call is abandoned and OpenTofu records what it knows.
            var elapsed = Math.Round(Elapsed());
            ui.Hook("apply_errored", $"{resource.Address}: {noun} errored after {FormatElapsed(elapsed)}", resource, action, elapsed);
            return false;
        }
        // The provider's call itself: for the Kubernetes objects, a real request to the workspace's cluster.
        if (cluster is not null && effect is not null && await cluster.ApplyAsync(resource, effect, stop) is { } refused)
        {
            ui.Hook("apply_errored", $"{resource.Address}: {noun} errored after {FormatElapsed(seconds)}", resource, action, seconds);
            lock (gate) errors.Add(refused);
            return false;
        }
        var total = (double)seconds;
        ui.Hook("apply_complete",
            $"{resource.Address}: {noun} complete after " +
            $"{FormatElapsed(total)}{(completeId is null || action == "delete" ? "" : $" [id={completeId}]")}", resource, action, total,
            action == "delete" ? null : completeId);
        return true;
    }

    /// <summary>An error as the AWS provider reports a node group that never became healthy.</summary>
    private static Diagnostic FailureFor(SimResource resource) => resource.Type == "aws_s3_bucket"
        ? BootstrapStack.BucketTaken(resource)
        : resource.Type == "aws_eks_node_group"
        ? Diagnostic.Error(
            $"waiting for EKS Node Group ({resource.Attributes["cluster_name"]}:{resource.Attributes["node_group_name"]}) create: unexpected state " +
                $"'CREATE_FAILED', wanted target 'ACTIVE'",
            "last error: i-0b6f3c2e9a1d4f7e2: NodeCreationFailure: Instances failed to join the kubernetes cluster (sandbox: injected by the " +
                "fail-apply- workspace name)",
            resource.Address, ".terraform/modules/stack.eks.eks_managed_node_group/modules/eks-managed-node-group/main.tf", 308,
            "resource \"aws_eks_node_group\" \"this\" {", "resource \"aws_eks_node_group\" \"this\"")
        : Diagnostic.Error($"creating {resource.Type}: operation error: StatusCode: 400, api error (sandbox: injected by the fail-apply- workspace " +
            $"name)", "", resource.Address, "main.tf.json", 2);

    public static string FormatElapsed(double seconds)
    {
        var whole = (int)Math.Round(seconds);
        return whole < 60 ? $"{whole}s" : $"{whole / 60}m{whole % 60}s";
    }

    /// <summary>The root module's outputs, with realistic values for the names terraform/aws declares.</summary>
    private JsonObject OutputValues(SandboxPlan plan)
    {
        var name = SandboxStack.Text(plan.Variables, "workspace_name") ?? "sandbox";
        var region = SandboxStack.Text(plan.Variables, "region") ?? "eu-central-1";
        var database = plan.Variables["database"] as JsonObject;
        string? Id(string address) => state.Resources.TryGetValue(address, out var r) ? r.Id : null;
        JsonArray Ids(string prefix)
            => new(state.Resources.Where(r => r.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => (JsonNode?)r.Value.Id).ToArray());

        var outputs = new JsonObject();
        foreach (var (output, sensitive) in plan.Outputs)
        {
            // Stable across applies, as a real value would be; generated once and kept in state.
            JsonNode? value = sensitive
                ? state.Outputs[output]?["value"]?.DeepClone() ?? "sandbox-secret-"
                    + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant()
                : BootstrapStack.Matches(plan.Variables)
                    ? BootstrapStack.OutputValue(output, plan.Variables, state, root?.AccountId ?? "000000000000")
                : output switch
                {
                    "cluster_id" or "cluster_name" => $"{name}-eks",
                    "cluster_endpoint" =>
                        $"https://{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..32]}.gr7.{region}.eks.amazonaws.com",
                    "kubernetes_version" => SandboxStack.Text(plan.Variables, "kubernetes_version"),
                    "vpc_id" => Id($"{SandboxStack.Root}.module.vpc.aws_vpc.this[0]"),
                    "private_subnet_ids" => Ids($"{SandboxStack.Root}.module.vpc.aws_subnet.private["),
                    "public_subnet_ids" => Ids($"{SandboxStack.Root}.module.vpc.aws_subnet.public["),
                    "nat_public_ips" => new JsonArray("198.51.100.17"),
                    "oidc_provider_arn" => Id($"{SandboxStack.Root}.module.eks.aws_iam_openid_connect_provider.oidc_provider[0]"),
                    "agent_namespace" => "cogrion-agent",
                    "agent_role_arn" => $"arn:aws:iam::123456789012:role/{name}-cluster-agent",
                    "database_endpoint" => database is null ? null : $"{name}-db.c9akciq32abc.{region}.rds.amazonaws.com",
                    "database_port" => database is null ? null : SandboxStack.Text(database, "engine") == "mysql" ? 3306 : 5432,
                    "database_master_secret_ref" => database is null ? null : $"arn:aws:secretsmanager:{region}:123456789012:secret:rds!db-{name}",
                    _ => $"sandbox:{output}",
                };
            outputs[output] = new JsonObject { ["sensitive"] = sensitive, ["type"] = TypeOf(value), ["value"] = value };
        }
        return outputs;
    }

    public static JsonNode TypeOf(JsonNode? value) => value switch
    {
        JsonArray array => new JsonArray("tuple", new JsonArray(array.Select(_ => (JsonNode)"string").ToArray())),
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => "number",
        JsonValue v when v.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "bool",
        null => "dynamic",
        _ => "string",
    };
}
