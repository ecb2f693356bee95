using Cogrion.Portal.Features.Tenants.Invitations;
using Cogrion.Portal.Features.Tenants.Members;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Cogrion.Portal.Features.Tenants;

/// <summary>A tenant's members and, for its admins, their roles and the invitations.</summary>
public partial class MembersPage
{
    [Inject] private MembershipStore Members { get; set; } = default!;
    [Inject] private InvitationStore Invitations { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    private IReadOnlyList<Member> members = [];
    private IReadOnlyList<Invitation> invitations = [];
    private string? memberError;
    private string? inviteEmail;
    private TenantRole inviteRole = TenantRole.Viewer;
    private FieldErrors inviteErrors = new();

    private static readonly Func<TenantRole, string> RoleText = role => role.ToText();

    private string InvitationLink => $"{Navigation.BaseUri}account/signin?returnUrl={Uri.EscapeDataString("/t/" + Current.Slug)}";

    protected override Task OnTenantReadyAsync() => ReloadAsync();

    private async Task ReloadAsync()
    {
        members = await Members.ListAsync(Current.TenantId, Aborted);
        invitations = Current.IsAdmin ? await Invitations.ListAsync(Current.TenantId, Aborted) : [];
    }

    private string StatusOf(Invitation invitation) => invitation.StatusAt(Time.GetUtcNow()).ToDbText();

    private async Task ChangeRoleAsync(Member member, TenantRole role)
    {
        var result = await Members.ChangeRoleAsync(Current.TenantId, member.UserId, role, User.AsActor(), Aborted);
        memberError = result.IsNotFound ? $"{member.Username} is no longer a member." : result.Errors.For("role");
        if (result.Succeeded) Snackbar.Add($"{member.Username} is now {role.ToText()}.", Severity.Success);
        await ReloadAsync();
    }

    private async Task RemoveAsync(Member member)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Remove member",
            $"Remove {member.Username} from {Current.Tenant.Name}? They lose access to it and to every tenant below it.",
            yesText: "Remove", cancelText: "Cancel");
        if (confirmed != true) return;
        var result = await Members.RemoveAsync(Current.TenantId, member.UserId, User.AsActor(), Aborted);
        memberError = result.IsNotFound ? $"{member.Username} is no longer a member." : result.Errors.For("member");
        await ReloadAsync();
    }

    private async Task InviteAsync()
    {
        var result = await Invitations.InviteAsync(Current.TenantId, inviteEmail, inviteRole.ToText(), User.GetUserId()!.Value, User.AsActor(),
            Aborted);
        inviteErrors = result.Errors;
        if (!result.Succeeded) return;
        Snackbar.Add($"{result.Value!.Email} is invited as {inviteRole.ToText()}.", Severity.Success);
        inviteEmail = null;
        await ReloadAsync();
    }

    private async Task ResendAsync(Invitation invitation)
    {
        var result = await Invitations.ResendAsync(Current.TenantId, invitation.Id, User.AsActor(), Aborted);
        if (result.Succeeded) Snackbar.Add($"The invitation to {invitation.Email} is valid until " +
            $"{result.Value!.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC.", Severity.Info);
        await ReloadAsync();
    }

    private async Task RevokeAsync(Invitation invitation)
    {
        await Invitations.RevokeAsync(Current.TenantId, invitation.Id, User.AsActor(), Aborted);
        await ReloadAsync();
    }
}
