using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>
/// One cloud account: the role to create (trust policy, OpenTofu snippet), the check that Cogrion can
/// assume it, and its state backends. A verification is a job: the page follows job notifications, as
/// the other live pages do, and reloads the account when one finishes.
/// </summary>
public partial class CloudAccountPage
{
    [Parameter] public Guid AccountId { get; set; }

    [Inject] private CloudAccountStore Accounts { get; set; } = default!;
    [Inject] private CloudAccountCommands Commands { get; set; } = default!;
    [Inject] private IOptions<CloudAccountsOptions> Options { get; set; } = default!;
    [Inject] private TenantChanges Changes { get; set; } = default!;

    private bool loaded;
    private CloudAccount? account;
    private TrustSetup? setup;
    private string? roleArn;
    private FieldErrors errors = new();
    private IDisposable? updates;

    private string ExampleArn => account!.Provider == CloudProvider.Aws
        ? $"arn:aws:iam::{account.AccountRef}:role/{Options.Value.SuggestedRoleName}"
        : $"acs:ram::{account.AccountRef}:role/{Options.Value.SuggestedRoleName}";

    protected override async Task OnTenantReadyAsync()
    {
        await LoadAsync();
        loaded = true;
        if (!RendererInfo.IsInteractive || updates is not null) return;
        // The account's own changes (its check's verdict is written to it). Whether it waits is asked when the refresh
        // runs, not when the notification arrives: a check can finish before the page has even seen that it started.
        updates = Changes.Listen(Current.TenantId, AccountId, TimeSpan.FromMilliseconds(500),
            () => InvokeAsync(async () =>
            {
                if (!IsWaiting) return;
                await LoadAsync();
                StateHasChanged();
            }));
    }

    private bool IsWaiting => account?.Status is CloudAccountStatus.Verifying or CloudAccountStatus.Pending;

    private async Task LoadAsync()
    {
        account = await Accounts.FindAsync(Current.TenantId, AccountId, Aborted);
        setup = account is null ? null : TrustSetupBuilder.For(account, Options.Value);
        if (account is not null && string.IsNullOrEmpty(roleArn)) roleArn = string.IsNullOrEmpty(account.RoleArn) ? null : account.RoleArn;
    }

    private async Task VerifyAsync()
    {
        var result = await Commands.VerifyAsync(Current, AccountId, roleArn, User.AsActor(), Aborted);
        errors = result.Errors;
        if (result.Succeeded) account = result.Value;
    }

    protected override void OnDisposing() => updates?.Dispose();
}
