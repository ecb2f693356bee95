using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

public sealed class OpenTofuOptionsTests
{
    [Fact]
    public void The_defaults_are_valid() =>
        Assert.True(new OpenTofuOptionsValidator().Validate(null, new OpenTofuOptions()).Succeeded);

    [Fact]
    public void Every_bad_setting_is_reported_at_once()
    {
        var result = new OpenTofuOptionsValidator().Validate(null, new OpenTofuOptions
        {
            Executable = "",
            MinimumVersion = "latest",
            WorkRoot = "relative/dir",
            SandboxSpeed = 0,
            CancelGracePeriod = TimeSpan.Zero,
            AliCloudStsEndpoint = "sts.aliyuncs.com",
        });

        Assert.Equal(6, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("OpenTofu:MinimumVersion must be a version", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("OpenTofu:AliCloudStsEndpoint must be an absolute URL", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("1.10.0", "1.10.0")]
    [InlineData("v1.10.6", "1.10.6")]
    [InlineData("1.11.0-beta1", "1.11.0")]
    public void Versions_are_compared_without_prefix_or_prerelease(string text, string expected) =>
        Assert.Equal(Version.Parse(expected), TofuVersion.Parse(text));
}
