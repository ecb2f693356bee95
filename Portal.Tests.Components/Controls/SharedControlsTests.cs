using AngleSharp.Dom;
using Cogrion.Portal.Components.Controls;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Tests.Components.Controls;

/// <summary>The shared controls every page uses: what a screen reader gets from them.</summary>
public sealed class SharedControlsTests : PortalTestContext
{
    [Fact]
    public void An_empty_state_is_a_section_named_by_its_heading_that_says_what_to_do_next_and_offers_the_step()
    {
        var cut = Render<EmptyState>(p => p
            .Add(e => e.Title, "No workspaces yet")
            .Add(e => e.Icon, Icons.Material.Outlined.Cloud)
            .Add(e => e.ChildContent, (RenderFragment)(b => b.AddContent(0, "Connect a cloud account first.")))
            .Add(e => e.Action, (RenderFragment)(b => b.AddMarkupContent(0, "<a href=\"t/acme/cloud-accounts/new\">Connect a cloud account</a>"))));

        var section = cut.Find("section.portal-empty-state");
        var heading = cut.Find($"#{section.GetAttribute("aria-labelledby")}");
        Assert.Equal("h2", heading.LocalName);
        Assert.Equal("No workspaces yet", heading.TextContent.Trim());
        Assert.Contains("Connect a cloud account first.", section.TextContent);
        Assert.Equal("t/acme/cloud-accounts/new", cut.Find(".portal-empty-state__action a").GetAttribute("href"));
        Assert.Equal("true", cut.Find("svg").GetAttribute("aria-hidden"));
    }

    [Fact]
    public void An_empty_state_without_a_next_step_renders_no_action_area()
    {
        var cut = Render<EmptyState>(p => p.Add(e => e.Title, "No workers have reported"));

        Assert.Empty(cut.FindAll(".portal-empty-state__action"));
    }

    [Fact]
    public void The_access_denied_notice_is_an_alert_with_a_heading_and_a_way_back()
    {
        var cut = Render<AccessDeniedNotice>();

        var alert = cut.Find("[role=alert]");
        Assert.Equal("Access denied", cut.Find($"#{alert.GetAttribute("aria-labelledby")}").TextContent.Trim());
        Assert.Equal("h1", cut.Find("#access-denied-title").LocalName);
        Assert.Equal("dashboard", cut.Find("a").GetAttribute("href"));
    }

    [Fact]
    public void A_page_heading_is_the_pages_only_h1_and_names_the_browser_tab()
    {
        var cut = Render<PageHeading>(p => p.Add(h => h.Title, "Audit").Add(h => h.Subtitle, "Every change."));

        Assert.Equal("Audit", cut.Find("h1").TextContent.Trim());
        Assert.Single(cut.FindAll("h1"));
        Assert.Contains("Every change.", cut.Markup);
    }

    [Fact]
    public void A_status_chip_is_a_named_status_whose_text_says_the_state_in_words()
    {
        var cut = Render(StatusChip.Render("ready", StatusTone.Success, "Status of lake"));

        var chip = cut.Find("[role=status]");
        Assert.Equal("Status of lake", chip.GetAttribute("aria-label"));
        Assert.Equal("ready", chip.TextContent);
        Assert.Contains("portal-chip--success", chip.ClassList);
    }

    [Fact]
    public void A_field_error_is_announced_when_there_is_one_and_absent_otherwise()
    {
        var none = Render<FieldError>(p => p.Add(f => f.Message, null));
        var one = Render<FieldError>(p => p.Add(f => f.Id, "confirm-slug-error").Add(f => f.Message, "Someone took the slug."));

        Assert.Empty(none.Nodes.OfType<IElement>());
        var message = one.Find("#confirm-slug-error");
        Assert.Equal("alert", message.GetAttribute("role"));
        Assert.Equal("Someone took the slug.", message.TextContent);
    }

    [Fact]
    public void A_simple_table_carries_its_name_on_the_table_itself()
    {
        var cut = Render<SimpleTable>(p => p.Add(t => t.Label, "Run history")
            .AddChildContent("<tbody><tr><td>plan</td></tr></tbody>"));

        Assert.Equal("Run history", cut.Find("table").GetAttribute("aria-label"));
    }

    [Theory]
    [InlineData("name", "error-name")]
    [InlineData("nodePools[1].instanceType", "error-nodePools-1--instanceType")]
    public void A_fields_error_id_is_a_valid_element_id(string field, string id) => Assert.Equal(id, FieldIds.Error(field));
}
