using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// The resources terraform/aws would create, derived from the module's inputs the way its count and
/// for_each expressions would: one node group per pool, the database only when asked for, Karpenter
/// only when enabled. Addresses follow the community modules the real module is built on
/// (terraform-aws-modules/vpc, /eks, /rds), under the root module's <c>module.stack</c>.
/// </summary>
public static class SandboxStack
{
    public const string Root = "module.stack";

    public static IReadOnlyList<SimResource> Resources(JsonObject variables, string moduleSource)
    {
        var name = Text(variables, "workspace_name") ?? "sandbox";
        var cidr = Text(variables, "network_cidr") ?? "10.40.0.0/16";
        var version = Text(variables, "kubernetes_version") ?? "1.31";
        var cluster = $"{name}-eks";
        var vpc = $"{Root}.module.vpc";
        var eks = $"{Root}.module.eks";
        List<SimResource> list = [];

        void Add(string module, string type, string resourceName, JsonNode? key, int wave, int seconds, JsonObject? attributes = null,
            string[]? replaceOn = null, string[]? sensitive = null) =>
            list.Add(new SimResource(module, type, resourceName, key, wave, seconds, attributes ?? [], replaceOn, sensitive));

        // No state bucket: terraform/aws/bootstrap made the one this workspace's state lives in (ADR 0041).

        // Network: three availability zones, public and private subnets, one NAT gateway.
        Add(vpc, "aws_vpc", "this", 0, 0, 12, new() { ["cidr_block"] = cidr }, ["cidr_block"]);
        Add(vpc, "aws_internet_gateway", "this", 0, 1, 2);
        Add(vpc, "aws_eip", "nat", 0, 1, 2, new() { ["domain"] = "vpc" });
        for (var i = 0; i < 3; i++)
        {
            Add(vpc, "aws_subnet", "public", i, 1, 11, new() { ["cidr_block"] = $"{cidr}#public-{i}" }, ["cidr_block"]);
            Add(vpc, "aws_subnet", "private", i, 1, 11, new() { ["cidr_block"] = $"{cidr}#private-{i}" }, ["cidr_block"]);
        }
        Add(vpc, "aws_route_table", "public", 0, 1, 2);
        Add(vpc, "aws_route_table", "private", 0, 1, 2);
        Add(vpc, "aws_nat_gateway", "this", 0, 2, 105);
        Add(vpc, "aws_route", "public_internet_gateway", 0, 2, 1);
        for (var i = 0; i < 3; i++)
        {
            Add(vpc, "aws_route_table_association", "public", i, 2, 1);
            Add(vpc, "aws_route_table_association", "private", i, 2, 1);
        }
        Add(vpc, "aws_route", "private_nat_gateway", 0, 3, 1);

        // The cluster.
        Add(eks, "aws_iam_role", "this", 0, 0, 2, new() { ["name"] = $"{cluster}-cluster" });
        Add(eks, "aws_iam_role_policy_attachment", "this", "AmazonEKSClusterPolicy", 1, 1);
        Add(eks, "aws_security_group", "cluster", 0, 2, 3);
        Add(eks, "aws_security_group", "node", 0, 2, 3);
        Add(eks, "aws_eks_cluster", "this", 0, 3, 560, new() { ["name"] = cluster, ["version"] = version });
        Add(eks, "aws_iam_openid_connect_provider", "oidc_provider", 0, 4, 1);
        foreach (var addon in new[] { "coredns", "kube-proxy", "vpc-cni" })
            Add(eks, "aws_eks_addon", "this", addon, 5, 35, new() { ["addon_name"] = addon, ["cluster_version"] = version });

        foreach (var pool in variables["node_pools"] as JsonArray ?? [])
        {
            if (pool is not JsonObject p || Text(p, "name") is not { } poolName) continue;
            var group = $"{eks}.module.eks_managed_node_group[\"{poolName}\"]";
            Add(group, "aws_iam_role", "this", 0, 3, 2, new() { ["name"] = $"{poolName}-eks-node-group" });
            Add(group, "aws_launch_template", "this", 0, 3, 2, new() { ["instance_type"] = Text(p, "instance_type") });
            Add(group, "aws_eks_node_group", "this", 0, 4, 150, new()
            {
                ["cluster_name"] = cluster,
                ["node_group_name"] = poolName,
                ["instance_types"] = Text(p, "instance_type"),
                ["min_size"] = p["min_size"]?.DeepClone(),
                ["max_size"] = p["max_size"]?.DeepClone(),
                ["version"] = version,
            }, ["instance_types"]);
        }

        if (variables["use_karpenter"] is JsonValue k && k.GetValueKind() == System.Text.Json.JsonValueKind.True)
        {
            var karpenter = $"{Root}.module.karpenter[0]";
            Add(karpenter, "aws_iam_role", "controller", 0, 4, 2, new() { ["name"] = $"{cluster}-karpenter" });
            Add(karpenter, "aws_sqs_queue", "this", 0, 4, 25);
            Add(Root, "helm_release", "karpenter", 0, 6, 40, new() { ["chart"] = "karpenter", ["version"] = "1.0.6" });
        }

        if (variables["database"] is JsonObject database)
        {
            var db = $"{Root}.module.database[0]";
            Add(Root, "random_password", "database", 0, 0, 0, new() { ["length"] = 32 }, sensitive: ["result"]);
            Add($"{db}.module.db_subnet_group", "aws_db_subnet_group", "this", 0, 2, 2, new() { ["name"] = $"{name}-db" });
            Add($"{db}.module.db_instance", "aws_db_instance", "this", 0, 3, 420, new()
            {
                ["engine"] = Text(database, "engine"),
                ["instance_class"] = Text(database, "instance_class"),
                ["allocated_storage"] = database["storage_gb"]?.DeepClone(),
            }, ["engine"]);
        }

        // Flux's source and helm controllers (terraform/modules/flux), read from the module's own chart.json and values.yaml.
        list.AddRange(FluxInstall.Resources(variables, moduleSource));

        // The Cluster Agent: its role for service accounts, then its objects in the new cluster, read
        // from the module's own install template (terraform/modules/cluster-agent).
        Add($"{Root}.module.agent_irsa", "aws_iam_role", "this", 0, 5, 2, new() { ["name"] = $"{name}-cluster-agent" });
        list.AddRange(ClusterAgentInstall.Resources(variables, moduleSource));
        return list;
    }

    /// <summary>The resource an <c>fail-apply-</c> workspace fails on: the first node group, as a real capacity problem would.</summary>
    public static SimResource? FailureTarget(IReadOnlyList<SimResource> resources) =>
        resources.FirstOrDefault(r => r.Type == "aws_eks_node_group") ?? resources.LastOrDefault();

    public static string? Text(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : null;
}
