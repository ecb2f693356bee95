using Cogrion.Portal.Features.CloudAccounts;

namespace Cogrion.Portal.Tests.Components.CloudAccounts;

/// <summary>The "connect a cloud account" wizard's steps and checks, before anything is sent.</summary>
public sealed class NewCloudAccountWizardTests
{
    [Fact]
    public void The_provider_step_always_opens_the_account_step()
    {
        var wizard = new NewCloudAccountWizard();

        Assert.True(wizard.Next());

        Assert.Equal(NewCloudAccountWizard.AccountStep, wizard.Step);
        Assert.True(wizard.IsLastStep);
    }

    [Fact]
    public void An_aws_account_needs_a_name_and_a_12_digit_id_each_said_at_its_field()
    {
        var wizard = new NewCloudAccountWizard { Provider = CloudProvider.Aws, AccountRef = "12345" };
        wizard.Next();

        Assert.False(wizard.IsReadyToConnect());

        Assert.NotNull(wizard.Errors.For("name"));
        Assert.Contains("12 digits", wizard.Errors.For("accountRef"));
        Assert.Equal("AWS account ID (12 digits)", wizard.AccountRefLabel);
    }

    [Fact]
    public void The_sandbox_needs_only_a_name_and_sends_no_account_id()
    {
        var wizard = new NewCloudAccountWizard { Provider = CloudProvider.Sandbox, Name = " Try-out ", AccountRef = "left over" };
        wizard.Next();

        Assert.True(wizard.IsReadyToConnect());

        Assert.False(wizard.NeedsAccountRef);
        Assert.Equal(new NewCloudAccount(CloudProvider.Sandbox, "Try-out", null), wizard.Request());
    }

    [Fact]
    public void Steps_ahead_cannot_be_opened_and_going_back_forgets_the_errors()
    {
        var wizard = new NewCloudAccountWizard();

        Assert.False(wizard.Visit(NewCloudAccountWizard.AccountStep));
        wizard.Next();
        wizard.IsReadyToConnect();
        Assert.True(wizard.Back());

        Assert.Equal(NewCloudAccountWizard.ProviderStep, wizard.Step);
        Assert.True(wizard.Errors.IsEmpty);
    }
}
