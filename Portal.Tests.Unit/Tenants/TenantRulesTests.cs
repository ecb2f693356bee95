using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Invitations;

namespace Cogrion.Portal.Tests.Tenants;

public sealed class TenantRulesTests
{
    [Theory]
    [InlineData("Acme", "lower-case")]
    [InlineData("acme_data", "lower-case")]
    [InlineData("-acme", "lower-case")]
    [InlineData("acme-", "lower-case")]
    [InlineData("ac", "at least 3")]
    [InlineData("admin", "reserved")]
    [InlineData("www", "reserved")]
    [InlineData("", "Choose a slug")]
    public void A_slug_that_is_not_a_usable_dns_label_is_refused_with_the_reason(string slug, string reason) =>
        Assert.Contains(reason, TenantRules.CheckSlug(slug));

    [Fact]
    public void A_slug_longer_than_a_dns_label_is_refused() =>
        Assert.Contains("at most 63", TenantRules.CheckSlug(new string('a', 64)));

    [Theory]
    [InlineData("acme")]
    [InlineData("acme-data-2")]
    [InlineData("a1b")]
    public void A_lower_case_dns_label_is_a_valid_slug(string slug) => Assert.Null(TenantRules.CheckSlug(slug));

    [Theory]
    [InlineData("Acme Data, Inc.", "acme-data-inc")]
    [InlineData("  Müller & Söhne ", "m-ller-s-hne")]
    [InlineData("---", "")]
    public void A_slug_is_suggested_from_the_organisation_name(string name, string expected) =>
        Assert.Equal(expected, TenantRules.SuggestSlug(name));

    [Theory]
    [InlineData("acme.cogrion.test", null)]
    [InlineData("eu.acme.cogrion.test", null)]
    [InlineData("cogrion.test", "must end with")]
    [InlineData("acme.example.com", "must end with")]
    [InlineData("acme..cogrion.test", "DNS name")]
    [InlineData("ac_me.cogrion.test", "DNS name")]
    public void A_domain_must_be_a_dns_name_strictly_inside_its_parent_zone(string domain, string? problem)
    {
        var message = TenantRules.CheckDomain(domain, "cogrion.test");
        if (problem is null) Assert.Null(message);
        else Assert.Contains(problem, message);
    }

    [Theory]
    [InlineData("dana@example.com", "dana@example.com")]
    [InlineData("  Dana@Example.COM ", "dana@example.com")]
    [InlineData("Dana <dana@example.com>", null)]
    [InlineData("dana", null)]
    [InlineData("dana@localhost", null)]
    [InlineData("dana@example.com, erin@example.com", null)]
    [InlineData("", null)]
    public void Only_one_plain_email_address_is_accepted_for_an_invitation(string input, string? expected) =>
        Assert.Equal(expected, EmailAddresses.Normalise(input));
}
