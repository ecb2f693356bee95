using Cogrion.Portal.Components.Controls;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>Provider mark and status of a cloud account, the same everywhere they appear.</summary>
public static class CloudAccountBadges
{
    public static RenderFragment Render(CloudAccount account) => builder =>
    {
        builder.AddContent(0, Provider(account.Provider));
        builder.AddContent(1, " ");
        builder.AddContent(2, StatusChip.Render(account.Status.ToString().ToLowerInvariant(), account.Status switch
        {
            CloudAccountStatus.Verified => StatusTone.Success,
            CloudAccountStatus.Failed => StatusTone.Error,
            CloudAccountStatus.Verifying => StatusTone.Progress,
            _ => StatusTone.Warning,
        }, $"Status of {account.Name}"));
    };

    /// <summary>The provider's icon with its name as the text (the sandbox says "simulated"), wherever a provider is shown.</summary>
    public static RenderFragment Provider(CloudProvider provider) => builder =>
    {
        builder.OpenElement(0, "span");
        builder.AddAttribute(1, "class", "portal-provider");
        builder.OpenElement(2, "img");
        builder.AddAttribute(3, "src", $"assets/icons/{provider.ToKey()}.svg");
        builder.AddAttribute(4, "alt", "");
        builder.AddAttribute(5, "width", "20");
        builder.AddAttribute(6, "height", "20");
        builder.CloseElement();
        builder.OpenElement(7, "span");
        builder.AddContent(8, provider.ToText());
        builder.CloseElement();
        builder.CloseElement();
    };
}
