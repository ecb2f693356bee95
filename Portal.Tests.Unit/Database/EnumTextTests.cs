using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Tests.Database;

public sealed class EnumTextTests
{
    public enum Sample { Ready, AwaitingApproval, [EnumText("ali")] AliCloud }

    [Theory]
    [InlineData(Sample.Ready, "ready")]
    [InlineData(Sample.AwaitingApproval, "awaiting_approval")]
    [InlineData(Sample.AliCloud, "ali")]
    public void An_enum_is_stored_as_its_name_in_snake_case_unless_it_says_otherwise(Sample value, string text)
    {
        Assert.Equal(text, value.ToDbText());
        Assert.Equal(value, EnumText.Parse<Sample>(text));
    }

    [Fact]
    public void The_stored_spellings_of_existing_rows_still_read()
    {
        // What the database already holds: providers as the module folders are named, modes in lower case.
        Assert.Equal([CloudProvider.Aws, CloudProvider.AliCloud, CloudProvider.Sandbox],
            new[] { "aws", "alicloud", "sandbox" }.Select(EnumText.Parse<CloudProvider>));
        Assert.Equal(ApprovalMode.Manual, EnumText.Parse<ApprovalMode>("manual"));
        Assert.Equal(CloudAccountStatus.Verifying, EnumText.Parse<CloudAccountStatus>("verifying"));
    }

    [Theory]
    [InlineData("Ready")]
    [InlineData("awaitingapproval")]
    [InlineData("")]
    public void Only_the_one_spelling_is_read(string text)
    {
        Assert.False(EnumText.TryParse<Sample>(text, out _));
        Assert.Throws<FormatException>(() => EnumText.Parse<Sample>(text));
    }
}
