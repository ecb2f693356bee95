using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Infrastructure.Http;
using Cogrion.Portal.Infrastructure.Input;

namespace Cogrion.Portal.Tests.Input;

/// <summary>The text rules, as the Blazor forms meet them through the feature rules (no HTTP in between).</summary>
public sealed class InputTextTests
{
    // Built in code: an attribute stores its strings as UTF-8, which turns a lone surrogate into U+FFFD.
    [Theory]
    [InlineData(0x0000)]
    [InlineData(0xD800)]
    [InlineData(0xDC00)]
    public void Text_postgresql_cannot_hold_or_that_is_not_unicode_is_not_storable(int code)
    {
        Assert.NotNull(InputText.StorableProblem("a" + (char)code + "b"));
        Assert.NotNull(InputText.StorableProblem(((char)code).ToString()));
    }

    [Theory]
    [InlineData("Acme")]
    [InlineData("Café 🚀 数据")]
    [InlineData("tab\tand\nnewline are storable")]
    public void Ordinary_text_and_paired_surrogates_are_storable(string text) =>
        Assert.Null(InputText.StorableProblem(text));

    [Theory]
    [InlineData("\u202Egnp.exe")]
    [InlineData("a\u200Fb")]
    [InlineData("a\u2067b")]
    [InlineData("a\u200Bb")]
    [InlineData("a\uFEFFb")]
    [InlineData("line\u2028break")]
    public void A_name_with_bidirectional_or_invisible_characters_is_refused_by_every_names_rule(string name)
    {
        var cloud = new FieldErrors();
        CloudAccountRules.CheckName(cloud, name);

        Assert.NotNull(TenantRules.CheckName(name));
        Assert.NotNull(cloud.For("name"));
    }

    [Fact]
    public void The_workspace_wizards_name_rule_says_plainly_that_a_nul_cannot_be_stored() =>
        Assert.Equal(InputText.NulMessage, WorkspaceRules.CheckName("lake\0side"));

    [Fact]
    public void Names_are_stored_trimmed_in_normalization_form_c()
    {
        Assert.Equal("Café", TenantRules.NormaliseName("  Cafe\u0301 "));
        Assert.Equal(4, TenantRules.NormaliseName("Cafe\u0301").Length);
    }

    [Fact]
    public void A_name_that_cannot_be_stored_is_left_for_its_rule_to_refuse_rather_than_normalised()
    {
        var unpaired = "a" + (char)0xD800;

        Assert.Equal(unpaired, TenantRules.NormaliseName(unpaired));
        Assert.NotNull(TenantRules.CheckName(unpaired));
    }
}
