using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

public sealed class TofuOutputsTests
{
    private readonly TofuOutputs outputs = TofuOutputs.Parse(Recording.Text("output.json"));

    [Fact]
    public void Plain_outputs_keep_their_values()
    {
        Assert.Equal("https://4F1C2E9A7B3D5E6F.gr7.eu-central-1.eks.amazonaws.com", outputs.Values["cluster_endpoint"].GetString());
        Assert.Equal(["subnet-0aa1", "subnet-0bb2"], outputs.Values["private_subnet_ids"].EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void A_sensitive_output_keeps_its_name_and_loses_its_value()
    {
        Assert.Equal(["database_password"], outputs.SensitiveNames);
        Assert.False(outputs.Values.ContainsKey("database_password"));
        Assert.DoesNotContain(Recording.SensitiveOutputValue, System.Text.Json.JsonSerializer.Serialize(outputs));
    }
}
