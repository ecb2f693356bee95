using Cogrion.Portal.Infrastructure.Audit;


namespace Cogrion.Portal.Tests.Audit;

public sealed class SecretRedactorTests
{
    private readonly SecretRedactor redactor = new(["s3cr3t-value", "tiny"]);

    [Theory]
    [InlineData("password")]
    [InlineData("clientSecret")]
    [InlineData("refresh_token")]
    [InlineData("privateKey")]
    [InlineData("Authorization")]
    public void Values_under_secret_sounding_keys_are_masked(string key)
    {
        var json = redactor.RedactToJson(new Dictionary<string, object> { [key] = "visible?", ["name"] = "kept" });

        Assert.DoesNotContain("visible?", json);
        Assert.Contains("kept", json);
    }

    [Fact]
    public void Known_secret_values_are_masked_inside_any_text() =>
        Assert.Equal($"before {SecretRedactor.Mask} after", redactor.RedactText("before s3cr3t-value after"));

    [Fact]
    public void Very_short_known_values_are_ignored_so_ordinary_words_survive() =>
        Assert.Equal("a tiny change", redactor.RedactText("a tiny change"));

    [Fact]
    public void No_details_is_an_empty_object() => Assert.Equal("{}", redactor.RedactToJson(null));
}
