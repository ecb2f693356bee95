using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>The tenant's cloud accounts and their verification status.</summary>
public partial class CloudAccountsPage
{
    [Inject] private CloudAccountStore Accounts { get; set; } = default!;

    private IReadOnlyList<CloudAccount>? accounts;

    private string NewAccountPath => $"t/{Current.Slug}/cloud-accounts/new";

    protected override async Task OnTenantReadyAsync() => accounts = await Accounts.ListAsync(Current.TenantId, Aborted);
}
