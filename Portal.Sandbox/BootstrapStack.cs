using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cogrion.Sandbox;

/// <summary>
/// The resources terraform/aws/bootstrap creates: the state backend of one account and region
/// (ADR 0041). Its KMS key and alias and its region guard are its own; the bucket and its settings come
/// from terraform-aws-modules/s3-bucket (called as <c>module.state_bucket</c>), whose resources are
/// counted, hence the <c>[0]</c>. All under the root module's <c>module.stack</c>. No lock table: the
/// backend locks with a lock file beside the state.
/// </summary>
public static partial class BootstrapStack
{
    /// <summary>The bootstrap module's variables, exactly (terraform/aws/bootstrap/variables.tf).</summary>
    public static readonly string[] Inputs = ["tenant_id", "cloud_account_id", "region"];

    /// <summary>A role ARN or session name containing this makes the bucket's creation fail (docs/sandbox.md).</summary>
    public const string FailureMarker = "fail-bootstrap";

    private const string Root = SandboxStack.Root;
    private const string BucketModule = $"{Root}.module.state_bucket";
    public const string BucketAddress = $"{BucketModule}.aws_s3_bucket.this[0]";
    public const string KeyAddress = $"{Root}.aws_kms_key.state";

    /// <summary>
    /// How the simulator tells the bootstrap from a workspace: the module is called with a
    /// <c>cloud_account_id</c> and without a <c>workspace_name</c>, which every workspace call has
    /// (docs/module-interface.md). The remaining inputs are then checked against the bootstrap's own
    /// variables, as OpenTofu would check them, so a wrong call fails loudly instead of being guessed at.
    /// </summary>
    public static bool Matches(JsonObject variables) =>
        variables.ContainsKey("cloud_account_id") && !variables.ContainsKey("workspace_name");

    public static string BucketName(string accountId, string region) => $"cogrion-tfstate-{accountId}-{region}";

    public static IReadOnlyList<SimResource> Resources(JsonObject variables, string accountId)
    {
        var region = SandboxStack.Text(variables, "region") ?? "eu-central-1";
        var bucket = BucketName(accountId, region);
        var tags = new JsonObject
        {
            ["cogrion-tenant-id"] = SandboxStack.Text(variables, "tenant_id"),
            ["cogrion-cloud-account-id"] = SandboxStack.Text(variables, "cloud_account_id"),
            ["cogrion-managed-by"] = "cogrion-portal",
            ["cogrion-purpose"] = "opentofu-state",
        };
        List<SimResource> list = [];
        void Add(string module, string type, string name, JsonNode? key, int wave, int seconds, JsonObject attributes, string[]? replaceOn = null) =>
            list.Add(new SimResource(module, type, name, key, wave, seconds, attributes, replaceOn));

        // Waves follow the references: the bucket's settings need the bucket (and the encryption the key);
        // the module makes the policy wait for the public access block and the lifecycle for versioning.
        Add(Root, "terraform_data", "region_guard", null, 0, 0, new() { ["input"] = region }, ["input"]);
        Add(Root, "aws_kms_key", "state", null, 0, 14, new()
        {
            ["description"] = "Cogrion: OpenTofu state of the workspaces in this account and region",
            ["enable_key_rotation"] = true,
            ["deletion_window_in_days"] = 30,
            ["tags"] = tags.DeepClone(),
        });
        Add(Root, "aws_kms_alias", "state", null, 1, 1, new() { ["name"] = "alias/cogrion-tfstate" });
        Add(BucketModule, "aws_s3_bucket", "this", 0, 0, 3, new() { ["bucket"] = bucket, ["force_destroy"] = false, ["tags"] = tags.DeepClone() },
            ["bucket"]);
        Add(BucketModule, "aws_s3_bucket_public_access_block", "this", 0, 1, 1, new()
        {
            ["bucket"] = bucket,
            ["block_public_acls"] = true,
            ["block_public_policy"] = true,
            ["ignore_public_acls"] = true,
            ["restrict_public_buckets"] = true,
        }, ["bucket"]);
        Add(BucketModule, "aws_s3_bucket_ownership_controls", "this", 0, 1, 1,
            new() { ["bucket"] = bucket, ["object_ownership"] = "BucketOwnerEnforced" }, ["bucket"]);
        Add(BucketModule, "aws_s3_bucket_versioning", "this", 0, 1, 2, new() { ["bucket"] = bucket, ["status"] = "Enabled" }, ["bucket"]);
        Add(BucketModule, "aws_s3_bucket_server_side_encryption_configuration", "this", 0, 1, 1, new()
        {
            ["bucket"] = bucket,
            ["sse_algorithm"] = "aws:kms",
            ["bucket_key_enabled"] = true,
        }, ["bucket"]);
        Add(BucketModule, "aws_s3_bucket_policy", "this", 0, 2, 2,
            new() { ["bucket"] = bucket, ["statements"] = "DenyInsecureTransport,DenyOutdatedTLS" }, ["bucket"]);
        // The AWS provider waits for a lifecycle configuration to propagate: the slow one of the lot.
        Add(BucketModule, "aws_s3_bucket_lifecycle_configuration", "this", 0, 2, 32, new()
        {
            ["bucket"] = bucket,
            ["rule_id"] = "expire-old-state-versions",
            ["noncurrent_days"] = 365,
            ["abort_incomplete_multipart_upload_days"] = 7,
        }, ["bucket"]);
        return list;
    }

    /// <summary>What OpenTofu checks before planning: the module call's arguments and the variables' validation rules.</summary>
    public static void ValidateCall(RootModule root)
    {
        foreach (var (name, _) in root.Variables)
        {
            if (!Inputs.Contains(name))
                throw new SandboxError(Diagnostic.Error("Unsupported argument", $"An argument named \"{name}\" is not expected here.",
                    file: "main.tf.json", line: 4, code: $"      \"{name}\": ...", context: "module \"stack\""));
        }
        foreach (var name in Inputs)
        {
            if (!root.Variables.ContainsKey(name))
                throw new SandboxError(Diagnostic.Error("Missing required argument",
                    $"The argument \"{name}\" is required, but no definition was found.",
                    file: "main.tf.json", line: 3, code: "    \"stack\": {", context: "module \"stack\""));
        }
        Check("tenant_id", Uuid(), "tenant_id must be a lowercase UUID.", 8);
        Check("cloud_account_id", Uuid(), "cloud_account_id must be a lowercase UUID.", 18);
        Check("region", Region(), "region must be an AWS region name such as eu-central-1.", 28);

        void Check(string name, Regex rule, string message, int line)
        {
            var value = SandboxStack.Text(root.Variables, name);
            if (value is not null && rule.IsMatch(value)) return;
            throw new SandboxError(Diagnostic.Error("Invalid value for variable",
                $"{message}\n\nThis was checked by the validation rule at {root.ModuleSource}/variables.tf:{line},3-13.",
                file: "main.tf.json", line: 4, code: $"      \"{name}\": \"{value}\",", context: "module \"stack\""));
        }
    }

    /// <summary>terraform_data.region_guard's precondition: the provider's region must be the backend's.</summary>
    public static void CheckRegionGuard(RootModule root)
    {
        var region = SandboxStack.Text(root.Variables, "region");
        if (root.ProviderRegion is not { } provider || provider == region) return;
        throw new SandboxError(Diagnostic.Error("Resource precondition failed",
            $"The aws provider is configured for {provider} but the state backend's region is {region}.",
            $"{Root}.terraform_data.region_guard", $"{root.ModuleSource}/main.tf", 27,
            "      condition     = data.aws_region.current.name == var.region", "resource \"terraform_data\" \"region_guard\""));
    }

    /// <summary>The key has lifecycle.prevent_destroy: a plan that would delete it fails, as OpenTofu's does.</summary>
    public static void CheckPreventDestroy(RootModule root, IEnumerable<PlannedChange> changes)
    {
        if (!changes.Any(c => c.Resource.Address == KeyAddress && c.Actions.Contains("delete"))) return;
        throw new SandboxError(Diagnostic.Error("Instance cannot be destroyed",
            $"Resource {KeyAddress} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error " +
                $"and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using the -target option.",
            KeyAddress, $"{root.ModuleSource}/main.tf", 33, "resource \"aws_kms_key\" \"state\" {", "resource \"aws_kms_key\" \"state\""));
    }

    /// <summary>The resource a marked account's bootstrap fails on: the bucket, whose name someone else holds.</summary>
    public static SimResource? FailureTarget(IReadOnlyList<SimResource> resources) =>
        resources.FirstOrDefault(r => r.Address == BucketAddress);

    /// <summary>The AWS provider's error when a bucket name is taken in another account: S3 bucket names are global.</summary>
    public static Diagnostic BucketTaken(SimResource bucket)
    {
        var name = bucket.Attributes["bucket"]?.GetValue<string>();
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name ?? "")));
        return Diagnostic.Error(
            $"creating S3 Bucket ({name}): operation error S3: CreateBucket, https response error StatusCode: 409, RequestID: {hash[..16]}, " +
                $"HostID: {Convert.ToBase64String(Convert.FromHexString(hash))}, BucketAlreadyExists: The requested bucket name is not available. " +
                $"The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            $"(sandbox: injected because the assumed role names \"{FailureMarker}\")",
            bucket.Address, ".terraform/modules/stack.state_bucket/main.tf", 28,
            "resource \"aws_s3_bucket\" \"this\" {", "resource \"aws_s3_bucket\" \"this\"");
    }

    /// <summary>The bootstrap's outputs (terraform/aws/bootstrap/outputs.tf), from what the apply created.</summary>
    public static JsonNode? OutputValue(string output, JsonObject variables, SandboxState state, string accountId)
    {
        var region = SandboxStack.Text(variables, "region");
        return output switch
        {
            "state_bucket" => state.Find(BucketAddress)?.Id,
            "state_region" => region,
            "kms_key_arn" => state.Find(KeyAddress) is { } key ? $"arn:aws:kms:{region}:{accountId}:key/{key.Id}" : null,
            _ => $"sandbox:{output}",
        };
    }

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")] private static partial Regex Uuid();
    // The module's rule, plus the sandbox's own simulated regions (sandbox-local-1), which the Portal offers for sandbox accounts.
    [GeneratedRegex("^([a-z]{2}(-gov)?-[a-z]+-[0-9]|sandbox-[a-z]+-[0-9])$")] private static partial Regex Region();
}
