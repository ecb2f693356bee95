using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Database;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace Cogrion.Portal.Features.Support;

/// <summary>
/// A tenant's support access: its admins' passkeys, pending requests (approve with a passkey, deny), active grants
/// (time left, revoke) and the timeline of support actions. The passkey ceremonies run in the browser module
/// (wwwroot/js/support.js), which computes the challenge from the grant's fields itself.
/// </summary>
public partial class SupportAccessPage
{
    [Inject] private SupportRequests Requests { get; set; } = default!;
    [Inject] private SupportApprovers Approvers { get; set; } = default!;
    [Inject] private SupportSessions Sessions { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private TenantChanges Changes { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;

    private bool loaded;
    private bool busy;
    private string? passkeyName;
    private IReadOnlyList<SupportRequest> requests = [];
    private IReadOnlyList<SupportPasskey> passkeys = [];
    private IReadOnlyList<SupportActionRecord> timeline = [];
    private ApproverSetState approverState = new(null, null);
    private Notice? notice;
    private PeriodicTimer? refresh;
    private IDisposable? changes;

    private sealed record Notice(bool Ok, string Message);

    /// <summary>What the browser module answers: a verdict, and an attestation or an assertion; never a private key.</summary>
    private sealed record BrowserAnswer(bool Ok, string Message, string? Attestation = null, WebAuthnAssertion? Assertion = null);

    private DateTimeOffset Now => Time.GetUtcNow();

    private List<SupportRequest> Pending => requests.Where(r => r.StatusAt(Now) == SupportRequestStatus.Pending).ToList();

    private List<SupportRequest> Active => requests.Where(r => r.StatusAt(Now) == SupportRequestStatus.Approved).ToList();

    private List<SupportRequest> Closed => requests.Where(r => r.StatusAt(Now) is not (SupportRequestStatus.Pending or SupportRequestStatus.Approved))
        .ToList();

    private IReadOnlyList<string> MyPinnedCredentials => approverState.Published?.Approvers.Where(a => a.UserId == Current.UserId)
        .Select(a => a.CredentialId).ToList() ?? [];

    private RelyingParty Party => RelyingParty.FromBaseUri(Navigation.BaseUri);

    protected override async Task OnTenantReadyAsync()
    {
        await ReloadAsync();
        loaded = true;
        if (!RendererInfo.IsInteractive) return;
        refresh?.Dispose();
        changes?.Dispose();
        // New requests, the agent's verdicts, passkeys and timeline entries arrive as the tenant's changes; the slow beat
        // only moves "time left" along.
        changes = Changes.Listen(Current.TenantId, subjectId: null, TimeSpan.FromMilliseconds(250),
            () => InvokeAsync(async () => { if (!busy) await ReloadAsync(); StateHasChanged(); }));
        refresh = new PeriodicTimer(TimeSpan.FromSeconds(30));
        _ = FollowAsync(refresh);
    }

    /// <summary>Time left counts down without a reload; requests that expire by the clock show as expired.</summary>
    private async Task FollowAsync(PeriodicTimer timer)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(Aborted))
                await InvokeAsync(async () => { if (!busy) await ReloadAsync(); StateHasChanged(); });
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReloadAsync()
    {
        requests = await Requests.ListForTenantAsync(Current.TenantId, Aborted);
        passkeys = await Approvers.PasskeysAsync(Current.TenantId, Aborted);
        approverState = await Approvers.StateAsync(Current.TenantId, Aborted);
        timeline = await Sessions.TimelineAsync(Current.TenantId, Aborted);
    }

    private async Task RegisterAsync()
    {
        if (Current.UserId is not { } userId) return;
        await RunAsync(async () =>
        {
            var options = Approvers.BeginRegistration(userId, User.GetUsername() ?? userId.ToString(), Party, passkeys);
            var answer = await JS.InvokeAsync<BrowserAnswer>("cogrionSupport.register", Aborted, options);
            if (!answer.Ok || answer.Attestation is null) return new Notice(false, answer.Message);
            var result = await Approvers.RegisterAsync(Current.TenantId, userId, options, answer.Attestation, passkeyName ?? "", Party,
                User.AsActor(), Aborted);
            if (!result.Succeeded) return new Notice(false, Errors(result.Errors));
            passkeyName = null;
            return new Notice(true, $"Passkey \"{result.Value!.Name}\" registered.");
        });
    }

    private async Task EndorseAsync()
    {
        if (approverState.AwaitingEndorsement is not { } waiting || approverState.Published is not { } published) return;
        await RunAsync(async () =>
        {
            var answer = await JS.InvokeAsync<BrowserAnswer>("cogrionSupport.sign", Aborted, "approvers", waiting.Canonical(), MyPinnedCredentials,
                published.RpId);
            if (!answer.Ok || answer.Assertion is null) return new Notice(false, answer.Message);
            var result = await Approvers.EndorseAsync(Current.TenantId, waiting.Version, answer.Assertion, User.AsActor(), Aborted);
            return result.Succeeded
                ? new Notice(true, $"Approver set version {waiting.Version} endorsed and sent to your agents.")
                : new Notice(false, Errors(result.Errors));
        });
    }

    private async Task ApproveAsync(SupportRequest request)
    {
        if (Current.UserId is not { } userId) return;
        await RunAsync(async () =>
        {
            if (Requests.ApprovalRefusal(request, userId) is { } refusal) return new Notice(false, refusal);
            if (approverState.Published is not { } set || MyPinnedCredentials.Count == 0)
                return new Notice(false, "Register a passkey first (and, if others exist, have it endorsed): only a pinned passkey can approve.");
            var grant = Requests.ProposeGrant(request);
            var shown = new
            {
                requestId = grant.RequestId.ToString("D"),
                tenantId = grant.TenantId.ToString("D"),
                workspaceId = grant.WorkspaceId.ToString("D"),
                agentId = grant.AgentId.ToString("D"),
                requesterId = grant.RequesterId.ToString("D"),
                scope = grant.Scope,
                notBefore = grant.NotBefore,
                notAfter = grant.NotAfter,
            };
            var answer = await JS.InvokeAsync<BrowserAnswer>("cogrionSupport.sign", Aborted, "grant", shown, MyPinnedCredentials, set.RpId);
            if (!answer.Ok || answer.Assertion is null) return new Notice(false, answer.Message);
            var result = await Requests.ApproveAsync(Current.TenantId, request.Id, grant, answer.Assertion, userId, User.AsActor(), Aborted);
            return result.Succeeded
                ? new Notice(true, $"Approved: {request.RequesterName} may read {ScopeText(request.Scope)} on {request.WorkspaceName} until " +
                    $"{DateTimeOffset.FromUnixTimeSeconds(grant.NotAfter).UtcDateTime:yyyy-MM-dd HH:mm} UTC, once the agent has checked your " +
                        $"signature.")
                : new Notice(false, Errors(result.Errors));
        });
    }

    private Task DenyAsync(SupportRequest request) => RunAsync(async () =>
    {
        var result = await Requests.DenyAsync(Current.TenantId, request.Id, User.AsActor(), Aborted);
        return result.Succeeded ? new Notice(true, $"Denied the request from {request.RequesterName}.") : new Notice(false, Errors(result.Errors));
    });

    private Task RevokeAsync(SupportRequest request) => RunAsync(async () =>
    {
        var result = await Requests.RevokeAsync(Current.TenantId, request.Id, User.AsActor(), Aborted);
        return result.Succeeded
            ? new Notice(true, $"Revoked the grant to {request.RequesterName}; the agent ends it at once when online.")
            : new Notice(false, Errors(result.Errors));
    });

    private async Task RunAsync(Func<Task<Notice>> step)
    {
        busy = true;
        notice = null;
        try
        {
            notice = await step();
            await ReloadAsync();
        }
        finally
        {
            busy = false;
        }
    }

    private static string Errors(Infrastructure.Http.FieldErrors errors) => string.Join(" ", errors.ToDictionary().Values.SelectMany(v => v));

    internal static string ScopeText(SupportScope scope) => scope == SupportScope.Status ? "status" : "status and logs";

    internal static string Hours(TimeSpan duration) => $"{duration.TotalHours:0.#} h";

    private string Left(DateTimeOffset until)
    {
        var left = until - Now;
        return left <= TimeSpan.Zero ? "ended" : left.TotalHours >= 1 ? $"{(int)left.TotalHours} h {left.Minutes} min"
            : $"{left.Minutes} min {left.Seconds} s";
    }

    internal static string GrantText(GrantDelivery? grant) => grant switch
    {
        GrantDelivery.Sent => "sent, not yet checked",
        GrantDelivery.Recorded => "verified and recorded",
        GrantDelivery.Refused => "refused by the agent",
        _ => "—",
    };

    internal static string OutcomeText(SupportActionOutcome outcome) => outcome switch
    {
        SupportActionOutcome.Pending => "waiting for the agent",
        SupportActionOutcome.Allowed => "allowed",
        SupportActionOutcome.Refused => "refused",
        _ => "failed",
    };

    protected override void OnDisposing()
    {
        refresh?.Dispose();
        changes?.Dispose();
    }
}
