using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// One resource instance of the simulated stack, with the inputs that decide whether a change updates
/// it in place or replaces it, how long its creation "takes", and the wave it belongs to (resources
/// of a wave are applied concurrently once the previous wave is done, as OpenTofu's graph walk would).
/// </summary>
public sealed record SimResource(
    string Module,
    string Type,
    string Name,
    JsonNode? Key,
    int Wave,
    int Seconds,
    JsonObject Attributes,
    string[]? ReplaceOn = null,
    string[]? SensitiveAttributes = null)
{
    public string Address => (Module.Length > 0 ? Module + "." : "") + Type + "." + Name + KeyText;

    public string KeyText => Key switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => $"[\"{v.GetValue<string>()}\"]",
        _ => $"[{Key.ToJsonString()}]",
    };

    public string ProviderType => Type[..Type.IndexOf('_')];

    /// <summary>terraform_data belongs to the built-in provider, which has no registry address.</summary>
    public string ProviderName => ProviderType switch
    {
        "terraform" => "terraform.io/builtin/terraform",
        "kubectl" => "registry.opentofu.org/alekc/kubectl",
        _ => $"registry.opentofu.org/hashicorp/{ProviderType}",
    };

    /// <summary>The resource object of the machine-readable UI.</summary>
    public JsonObject AddressObject() => new()
    {
        ["addr"] = Address,
        ["module"] = Module,
        ["resource"] = Type + "." + Name + KeyText,
        ["implied_provider"] = ProviderType,
        ["resource_type"] = Type,
        ["resource_name"] = Name,
        ["resource_key"] = Key?.DeepClone(),
    };

    private string ObjectPath()
    {
        var apiVersion = Attributes["api_version"]?.GetValue<string>() ?? "v1";
        var plural = Cogrion.Kubernetes.ResourceKinds.Get(apiVersion, Attributes["kind"]?.GetValue<string>() ?? "").Plural;
        var prefix = apiVersion.Contains('/') ? $"/apis/{apiVersion}" : $"/api/{apiVersion}";
        return Attributes["namespace"]?.GetValue<string>() is { } ns ? $"{prefix}/namespaces/{ns}/{plural}/{Attributes["name"]}"
            : $"{prefix}/{plural}/{Attributes["name"]}";
    }

    /// <summary>A stable, realistic-looking id, derived from the address so repeated runs agree.</summary>
    public string NewId(string seed)
    {
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed + Address)))
            .ToLowerInvariant();
        return Type switch
        {
            "aws_vpc" => "vpc-" + hash[..17],
            "aws_subnet" => "subnet-" + hash[..17],
            "aws_internet_gateway" => "igw-" + hash[..17],
            "aws_nat_gateway" => "nat-" + hash[..17],
            "aws_eip" => "eipalloc-" + hash[..17],
            "aws_route_table" => "rtb-" + hash[..17],
            "aws_route_table_association" => "rtbassoc-" + hash[..17],
            "aws_route" => "r-rtb-" + hash[..17] + "1080289494",
            "aws_security_group" => "sg-" + hash[..17],
            "aws_launch_template" => "lt-" + hash[..17],
            "aws_eks_cluster" or "aws_iam_role" or "aws_db_subnet_group" => Attributes["name"]?.GetValue<string>() ?? hash[..12],
            // A bucket's id is its name, and so is the id of each of its settings.
            _ when Type.StartsWith("aws_s3_bucket", StringComparison.Ordinal) => Attributes["bucket"]?.GetValue<string>() ?? hash[..12],
            "aws_kms_key" or "terraform_data" => $"{hash[..8]}-{hash[8..12]}-4{hash[13..16]}-a{hash[17..20]}-{hash[20..32]}",
            "aws_kms_alias" => Attributes["name"]?.GetValue<string>() ?? hash[..12],
            "aws_db_instance" => "db-" + hash[..26].ToUpperInvariant(),
            "aws_eks_node_group" => $"{Attributes["cluster_name"]}:{Attributes["node_group_name"]}",
            "aws_iam_openid_connect_provider"
                => $"arn:aws:iam::123456789012:oidc-provider/oidc.eks.sandbox.amazonaws.com/id/{hash[..32].ToUpperInvariant()}",
            // kubectl_manifest's id is the object's API path.
            "kubectl_manifest" => ObjectPath(),
            _ => hash[..20],
        };
    }
}
