using Cogrion.Portal.Features.Workspaces.Runs;


namespace Cogrion.Portal.Tests.Workspaces;

/// <summary>
/// The state backend's interim state may be kept in the database only while it holds nothing secret
/// (brief, "Invariants"): these are the cases the Portal must refuse.
/// </summary>
public sealed class BootstrapStateTests
{
    private const string Plain = """
        {"version":4,"terraform_version":"1.10.6","serial":3,"lineage":"l","outputs":{"state_bucket":{"value":"cogrion-tfstate-1-eu","type":"string"}},
         "resources":[{"mode":"managed","type":"aws_kms_key","name":"state","provider":"provider[\"registry.opentofu.org/hashicorp/aws\"]",
           "instances":[{"schema_version":0,"attributes":{"id":"k"},"sensitive_attributes":[]}]}]}
        """;

    [Fact]
    public void A_state_of_plain_resources_and_outputs_may_be_kept() =>
        Assert.False(BootstrapState.HoldsSensitiveValues(Plain));

    [Fact]
    public void A_sensitive_output_is_refused() =>
        Assert.True(BootstrapState.HoldsSensitiveValues(Plain.Replace("\"type\":\"string\"}", "\"type\":\"string\",\"sensitive\":true}",
            StringComparison.Ordinal)));

    [Fact]
    public void A_resource_with_sensitive_attributes_is_refused() =>
        Assert.True(BootstrapState.HoldsSensitiveValues(Plain.Replace("\"sensitive_attributes\":[]",
            "\"sensitive_attributes\":[[{\"type\":\"get_attr\",\"value\":\"secret\"}]]", StringComparison.Ordinal)));

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"resources":[]}""")]
    public void Anything_that_is_not_a_state_document_is_refused(string text) =>
        Assert.True(BootstrapState.HoldsSensitiveValues(text));
}
