using Microsoft.AspNetCore.Components;
using Radzen;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Features.Tenants.Invitations;
using Cogrion.Portal.Features.Tenants.Members;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Tenants;

public partial class MembersPage
{
    [Inject] private MembershipStore Members { get; set; } = default!;
    [Inject] private InvitationStore Invitations { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private DialogService Dialogs { get; set; } = default!;
    [Inject] private NotificationService Notifications { get; set; } = default!;

    private IReadOnlyList<Member> members = [];
    private IReadOnlyList<Invitation> invitations = [];
    private string? memberError;
    private string? inviteEmail;
    private TenantRole inviteRole = TenantRole.Viewer;
    private FieldErrors inviteErrors = new();

    private string InvitationLink => $"{Navigation.BaseUri}account/signin?returnUrl={Uri.EscapeDataString("/t/" + Current.Slug)}";

    protected override Task OnTenantReadyAsync() => ReloadAsync();

    private async Task ReloadAsync()
    {
        members = await Members.ListAsync(Current.TenantId, CancellationToken.None);
        invitations = Current.IsAdmin ? await Invitations.ListAsync(Current.TenantId, CancellationToken.None) : [];
    }

    private string StatusOf(Invitation invitation) => invitation.StatusAt(Time.GetUtcNow()).ToString().ToLowerInvariant();

    private async Task ChangeRoleAsync(Member member, TenantRole role)
    {
        var result = await Members.ChangeRoleAsync(Current.TenantId, member.UserId, role, User.AsActor(), CancellationToken.None);
        memberError = result.IsNotFound ? $"{member.Username} is no longer a member." : result.Errors.For("role");
        if (result.Succeeded) Notifications.Notify(NotificationSeverity.Success, $"{member.Username} is now {role.ToText()}.");
        await ReloadAsync();
    }

    private async Task RemoveAsync(Member member)
    {
        if (await Dialogs.Confirm($"Remove {member.Username} from {Current.Tenant.Name}? They lose access to it and to every tenant below it.",
                "Remove member", new ConfirmOptions { OkButtonText = "Remove", CancelButtonText = "Cancel" }) != true)
            return;
        var result = await Members.RemoveAsync(Current.TenantId, member.UserId, User.AsActor(), CancellationToken.None);
        memberError = result.IsNotFound ? $"{member.Username} is no longer a member." : result.Errors.For("member");
        await ReloadAsync();
    }

    private async Task InviteAsync()
    {
        var result = await Invitations.InviteAsync(Current.TenantId, inviteEmail, inviteRole.ToText(), User.GetUserId()!.Value, User.AsActor(), CancellationToken.None);
        inviteErrors = result.Errors;
        if (!result.Succeeded) return;
        Notifications.Notify(NotificationSeverity.Success, $"{result.Value!.Email} is invited as {inviteRole.ToText()}.");
        inviteEmail = null;
        await ReloadAsync();
    }

    private async Task ResendAsync(Invitation invitation)
    {
        var result = await Invitations.ResendAsync(Current.TenantId, invitation.Id, User.AsActor(), CancellationToken.None);
        if (result.Succeeded) Notifications.Notify(NotificationSeverity.Info, $"The invitation to {invitation.Email} is valid until {result.Value!.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC.");
        await ReloadAsync();
    }

    private async Task RevokeAsync(Invitation invitation)
    {
        await Invitations.RevokeAsync(Current.TenantId, invitation.Id, User.AsActor(), CancellationToken.None);
        await ReloadAsync();
    }
}
