using System.Text.Json.Nodes;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Database;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Cogrion.Portal.Features.Support;

/// <summary>
/// The requester's support session: each button is an agent command under the grant; the page follows the answers
/// as the agent reports them. Answers are shown while the grant lasts and are deleted when it ends.
/// </summary>
public partial class SupportSessionPage
{
    [Parameter] public Guid Id { get; set; }

    [Inject] private SupportRequests Requests { get; set; } = default!;
    [Inject] private SupportSessions Sessions { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private TenantChanges Changes { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private bool loaded;
    private SupportRequest? request;
    private IReadOnlyList<SupportActionRecord> actions = [];
    private SupportListing? listing;
    private Detail? detail;
    private int tailLines = 100;
    private Guid? awaited;
    private System.Security.Claims.ClaimsPrincipal user = new();
    private PeriodicTimer? refresh;
    private IDisposable? changes;

    private sealed record Detail(string Title, string Text);

    private bool Active => request?.IsActiveAt(Time.GetUtcNow()) == true;

    private string StatusText => request is null ? "" : Active ? "active" : request.StatusAt(Time.GetUtcNow()) switch
    {
        SupportRequestStatus.Approved => "approved, waiting for the agent to verify",
        var other => other.ToString().ToLowerInvariant(),
    };

    protected override async Task OnParametersSetAsync()
    {
        user = (await AuthenticationState).User;
        await ReloadAsync();
        loaded = true;
        if (!RendererInfo.IsInteractive) return;
        refresh?.Dispose();
        changes?.Dispose();
        // The request's answer and each action's result arrive as changes of the request (its tenant's); the slow beat
        // only moves the grant's time left along and notices its end by the clock.
        if (request is not null)
            changes = Changes.Listen(request.TenantId, request.Id, TimeSpan.FromMilliseconds(100),
                () => InvokeAsync(async () => { await ReloadAsync(); StateHasChanged(); }));
        refresh = new PeriodicTimer(TimeSpan.FromSeconds(15));
        _ = FollowAsync(refresh);
    }

    private async Task FollowAsync(PeriodicTimer timer)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(Aborted))
                await InvokeAsync(async () => { await ReloadAsync(); StateHasChanged(); });
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReloadAsync()
    {
        if (user.GetUserId() is not { } userId) return;
        request = await Requests.GetForRequesterAsync(userId, Id, Aborted);
        if (request is null) return;
        actions = await Sessions.ForRequestAsync(userId, Id, Aborted);
        if (!Active)
        {
            listing = null;
            detail = null;
        }
        if (awaited is { } id && actions.FirstOrDefault(a => a.Id == id) is { Outcome: not SupportActionOutcome.Pending } done)
        {
            awaited = null;
            await ShowAsync(userId, done);
        }
    }

    private async Task ShowAsync(Guid userId, SupportActionRecord action)
    {
        if (action.Outcome != SupportActionOutcome.Allowed)
        {
            Snackbar.Add(action.Message ?? "The agent did not answer.", Severity.Error);
            return;
        }
        var answer = await Sessions.AnswerAsync(userId, action, Aborted);
        if (answer is null) return;
        if (action.Action == SupportActions.List) listing = SupportListing.From(answer);
        else if (action.Action == SupportActions.Logs)
            detail = new Detail($"Logs · {action.Target}", string.Join('\n', (answer["lines"] as JsonArray ?? []).Select(l => l?.ToString())));
        else detail = new Detail($"Describe · {action.Target}", answer["object"]?.ToJsonString(new System.Text.Json.JsonSerializerOptions
        {
            WriteIndented = true
        }) ?? "");
    }

    private async Task AskAsync(SupportQuestion question)
    {
        if (user.GetUserId() is not { } userId) return;
        var result = await Sessions.AskAsync(userId, Id, question, user.AsActor(), Aborted);
        if (result.IsNotFound) return;
        if (!result.Succeeded)
        {
            Snackbar.Add(string.Join(" ", result.Errors.ToDictionary().Values.SelectMany(v => v)), Severity.Error);
            return;
        }
        if (result.Value!.Outcome == SupportActionOutcome.Refused) Snackbar.Add(result.Value.Message!, Severity.Error);
        else awaited = result.Value.Id;
        await ReloadAsync();
    }

    protected override void OnDisposing()
    {
        refresh?.Dispose();
        changes?.Dispose();
    }
}

/// <summary>The agent's answer to a list action, for the tables.</summary>
public sealed record SupportListing(IReadOnlyList<SupportListing.Pod> Pods, IReadOnlyList<SupportListing.Workload> Workloads,
    IReadOnlyList<SupportListing.Event> Events)
{
    public sealed record Pod(string Namespace, string Name, string? Phase, bool Ready, int Restarts, string? Waiting);

    public sealed record Workload(string Kind, string Namespace, string Name, long Desired, long Ready);

    public sealed record Event(string Namespace, string? Type, string? Reason, string? Object, string? Message, long? Count);

    public static SupportListing From(JsonObject answer) => new(
        Items(answer, "pods").Select(p => new Pod(Text(p, "namespace"), Text(p, "name"), p["phase"]?.ToString(),
            p["ready"]?.GetValue<bool>() == true, (int)(Number(p, "restarts") ?? 0), p["waiting"]?.ToString())).ToList(),
        Items(answer, "workloads").Select(w => new Workload(Text(w, "kind"), Text(w, "namespace"), Text(w, "name"), Number(w, "desired") ?? 0,
            Number(w, "ready") ?? 0)).ToList(),
        Items(answer, "events").Select(e => new Event(Text(e, "namespace"), e["type"]?.ToString(), e["reason"]?.ToString(),
            e["object"]?.ToString(), e["message"]?.ToString(), Number(e, "count"))).ToList());

    private static IEnumerable<JsonObject> Items(JsonObject answer, string name) => (answer[name] as JsonArray ?? []).OfType<JsonObject>();

    private static string Text(JsonObject item, string name) => item[name]?.ToString() ?? "";

    private static long? Number(JsonObject item, string name) => item[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
}
