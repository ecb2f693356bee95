using Cogrion.Portal.Components.Dialogs;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Cogrion.Portal.Tests.Components.Controls;

/// <summary>The typed confirmation in front of what cannot be undone (destroying a workspace).</summary>
public sealed class TypedConfirmationDialogTests : PortalTestContext
{
    private async Task<(IRenderedComponent<MudDialogProvider> Provider, IDialogReference Dialog)> OpenAsync()
    {
        var provider = Render<MudDialogProvider>();
        var service = Services.GetRequiredService<IDialogService>();
        var dialog = await provider.InvokeAsync(()
            => service.ShowAsync<TypedConfirmationDialog>("Destroy lake?", new DialogParameters<TypedConfirmationDialog>
        {
            { d => d.Title, "Destroy lake?" },
            { d => d.Message, "Every resource of this workspace is deleted." },
            { d => d.Expected, "lake" },
            { d => d.ActionLabel, "Destroy workspace" },
        }));
        return (provider, dialog);
    }

    private static AngleSharp.Dom.IElement ActionButton(IRenderedComponent<MudDialogProvider> provider) =>
        provider.FindAll("button").Single(b => b.TextContent.Trim() == "Destroy workspace");

    [Fact]
    public async Task The_action_stays_disabled_until_the_name_is_typed_exactly()
    {
        var (provider, _) = await OpenAsync();

        Assert.True(ActionButton(provider).HasAttribute("disabled"));
        provider.Find("input").Input("lak");
        Assert.True(ActionButton(provider).HasAttribute("disabled"));
        provider.Find("input").Input("Lake");
        Assert.True(ActionButton(provider).HasAttribute("disabled"));
        provider.Find("input").Input("lake");
        Assert.False(ActionButton(provider).HasAttribute("disabled"));
    }

    [Fact]
    public async Task The_input_is_labelled_with_what_to_type()
    {
        var (provider, _) = await OpenAsync();

        var input = provider.Find("input");
        Assert.Equal("Type lake to confirm", provider.Find($"label[for='{input.Id}']").TextContent.Trim());
    }

    [Fact]
    public async Task Confirming_closes_the_dialog_with_the_typed_name()
    {
        var (provider, dialog) = await OpenAsync();
        provider.Find("input").Input("lake");

        await provider.InvokeAsync(() => ActionButton(provider).Click());

        Assert.Equal("lake", (await dialog.Result)!.Data);
    }

    [Fact]
    public async Task Keeping_it_closes_the_dialog_as_cancelled()
    {
        var (provider, dialog) = await OpenAsync();

        await provider.InvokeAsync(() => provider.FindAll("button").Single(b => b.TextContent.Trim() == "Keep it").Click());

        Assert.True((await dialog.Result)!.Canceled);
    }
}
