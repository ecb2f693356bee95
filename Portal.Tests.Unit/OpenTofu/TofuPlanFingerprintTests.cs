using System.Text.Json;
using System.Text.Json.Nodes;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>
/// Whether a plan made again is the plan an operator approved (ADR 0046): the same changes give the
/// same fingerprint whatever the secrets and the order, and any visible difference gives another.
/// </summary>
public sealed class TofuPlanFingerprintTests
{
    private static JsonObject Recorded() => JsonNode.Parse(Recording.Text("plan.json"))!.AsObject();

    private static string Fingerprint(JsonNode plan)
    {
        using var document = JsonDocument.Parse(plan.ToJsonString());
        return TofuPlanFingerprint.Of(document.RootElement);
    }

    private static JsonObject Change(JsonObject plan, string addressPart) =>
        plan["resource_changes"]!.AsArray()
            .Single(r => r!["address"]!.GetValue<string>().Contains(addressPart, StringComparison.Ordinal))!["change"]!.AsObject();

    [Fact]
    public void The_summary_carries_the_fingerprint_of_its_plan() =>
        Assert.Equal(Fingerprint(Recorded()), TofuPlanSummary.Parse(Recording.Text("plan.json")).Fingerprint);

    [Fact]
    public void A_new_value_of_a_sensitive_attribute_or_output_keeps_the_fingerprint()
    {
        var again = Recorded();
        // Every plan mints its own agent token; the approval must survive that.
        Change(again, "agent_bootstrap")["after"]!["data"]!["token"] = "another-token-minted-for-this-plan";
        again["output_changes"]!["database_password"]!["before"] = "another-secret";

        Assert.Equal(Fingerprint(Recorded()), Fingerprint(again));
    }

    [Fact]
    public void The_order_of_resources_and_of_keys_does_not_matter()
    {
        var reordered = Recorded();
        var changes = reordered["resource_changes"]!.AsArray();
        var reversed = changes.Reverse().Select(c => c!.DeepClone()).ToArray();
        reordered["resource_changes"] = new JsonArray(reversed);
        var node = Change(reordered, "aws_vpc");
        var after = node["after"]!.AsObject();
        node["after"] = new JsonObject(after.Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));

        Assert.Equal(Fingerprint(Recorded()), Fingerprint(reordered));
    }

    [Fact]
    public void A_different_visible_value_changes_the_fingerprint_even_when_the_headline_is_the_same()
    {
        var resized = Recorded();
        Change(resized, "eks_managed_node_group[\"default\"]")["after"]!["scaling_config"]![0]!["max_size"] = 9;

        Assert.NotEqual(Fingerprint(Recorded()), Fingerprint(resized));
        Assert.Equal(TofuPlanSummary.Parse(Recording.Text("plan.json")).Headline, TofuPlanSummary.Parse(resized.ToJsonString()).Headline);
    }

    [Fact]
    public void A_different_action_changes_the_fingerprint()
    {
        var replaced = Recorded();
        Change(replaced, "aws_vpc")["actions"] = new JsonArray("delete", "create");

        Assert.NotEqual(Fingerprint(Recorded()), Fingerprint(replaced));
    }

    [Fact]
    public void A_value_known_only_after_apply_is_compared_as_unknown_not_by_a_guess()
    {
        var withUnknown = Recorded();
        var change = Change(withUnknown, "aws_vpc");
        change["after_unknown"] = new JsonObject { ["id"] = true };
        var twice = JsonNode.Parse(withUnknown.ToJsonString())!.AsObject();
        // A plan that happens to carry a placeholder where the value is unknown still matches.
        Change(twice, "aws_vpc")["after"]!["id"] = "placeholder";

        Assert.Equal(Fingerprint(withUnknown), Fingerprint(twice));
    }
}
