using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace Cogrion.Portal.Features.Secrets;

/// <summary>
/// A workspace's secrets: metadata, the fingerprint confirmation, and the add/rotate form whose value
/// input only the browser module reads (wwwroot/js/secrets.js). This class handles ciphertext and
/// metadata only; it never receives a value.
/// </summary>
public partial class SecretsPage
{
    /// <summary>The plain value input of the i-th key (the first keeps the page's original id).</summary>
    private static string ValueInputId(int index) => index == 0 ? "secret-value" : $"secret-value-{index + 1}";

    /// <summary>One key of the Secret being added or rotated; its value stays in the browser's plain input.</summary>
    private sealed class KeyRow
    {
        public string? Name { get; set; }
    }

    [Parameter] public string Name { get; set; } = "";

    [Inject] private SecretsPageModel Model { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;

    private bool loaded;
    private SecretsView? view;
    private BrowserAnswer? keyCheck;
    private string? typedFingerprint;
    private string? formNamespace;
    private string? formName;
    private List<KeyRow> keyRows = [new()];
    private bool rotating;
    private bool saving;
    private string? saveError;
    private FieldErrors errors = new();
    private PeriodicTimer? refresh;

    /// <summary>What the browser module answers: never a value, only a verdict or ciphertext.</summary>
    private sealed record BrowserAnswer(bool Ok, string Message, string? Sealed = null);

    private bool CanOperate => Current.Can(TenantRole.Operator) && Current.Source != Tenants.Access.TenantAccessSource.PlatformAdmin
        && Current.UserId is not null;

    private bool CanConfirm => Current.IsAdmin && CanOperate;

    /// <summary>The browser keeps a confirmed fingerprint per user and workspace.</summary>
    private string PinOwner => Current.UserId?.ToString() ?? "anonymous";

    protected override async Task OnTenantReadyAsync()
    {
        await ReloadAsync();
        loaded = true;
        // Only the live circuit talks to the browser module (a prerendered copy has no browser to ask).
        if (!RendererInfo.IsInteractive) return;
        await CheckKeyAsync();
        refresh?.Dispose();
        refresh = new PeriodicTimer(TimeSpan.FromSeconds(1));
        _ = FollowAsync(refresh);
    }

    /// <summary>While a change is in flight, the agent's report shows up without a reload.</summary>
    private async Task FollowAsync(PeriodicTimer timer)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(Aborted))
            {
                if (view?.Secrets.Any(s => s.Status is SecretStatus.Pending or SecretStatus.Deleting) != true) continue;
                await InvokeAsync(async () => { await ReloadAsync(); StateHasChanged(); });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReloadAsync() => view = await Model.LoadAsync(Current.TenantId, Name, Aborted);

    private async Task CheckKeyAsync()
    {
        if (view?.Offer is not { } offer) return;
        keyCheck = await JS.InvokeAsync<BrowserAnswer>("cogrionSecrets.check", Aborted, PinOwner, offer);
    }

    private async Task ConfirmAsync()
    {
        if (view?.Offer is not { } offer) return;
        var answer = await JS.InvokeAsync<BrowserAnswer>("cogrionSecrets.confirm", Aborted, PinOwner, offer, typedFingerprint ?? "");
        if (!answer.Ok)
        {
            keyCheck = answer;
            return;
        }
        Snackbar.Add(answer.Message, Severity.Success);
        typedFingerprint = null;
        await CheckKeyAsync();
    }

    private async Task SaveAsync()
    {
        saveError = null;
        errors = SecretsPageModel.ValidateForm(formNamespace, formName, keyRows.Select(k => k.Name).ToList());
        if (!errors.IsEmpty || view is not { Offer: { } offer } current) return;
        saving = true;
        try
        {
            var version = SecretsPageModel.NextVersion(current.Secrets, formNamespace!, formName!);
            var request = new { @namespace = formNamespace, name = formName, version };
            // Every key of the Secret at once: a delivery replaces the Secret's data with the keys it carries.
            var inputs = keyRows.Select((k, i) => (k.Name!, ValueInputId(i))).ToDictionary(k => k.Item1, k => k.Item2, StringComparer.Ordinal);
            var answer = await JS.InvokeAsync<BrowserAnswer>("cogrionSecrets.seal", Aborted, PinOwner, offer, request, inputs);
            if (!answer.Ok || answer.Sealed is null)
            {
                saveError = answer.Message;
                keyCheck = answer.Message.Contains("Enter a value", StringComparison.Ordinal) ? keyCheck : answer;
                return;
            }
            var result = await Model.SubmitAsync(Current.TenantId, current.WorkspaceId, answer.Sealed, User.AsActor(), Aborted);
            if (!result.Errors.IsEmpty)
            {
                saveError = string.Join(" ", result.Errors.ToDictionary().Values.SelectMany(v => v));
                return;
            }
            Snackbar.Add($"Version {version} of {formNamespace}/{formName} sealed and sent to the agent.", Severity.Success);
            StopRotating();
            await ReloadAsync();
        }
        finally
        {
            saving = false;
        }
    }

    private void StartRotating(WorkspaceSecret secret)
    {
        rotating = true;
        formNamespace = secret.Namespace;
        formName = secret.Name;
        keyRows = secret.Keys.Count == 0 ? [new()] : secret.Keys.Select(k => new KeyRow { Name = k }).ToList();
        errors = new FieldErrors();
    }

    private void StopRotating()
    {
        rotating = false;
        formNamespace = formName = null;
        keyRows = [new()];
    }

    private async Task DeleteAsync(WorkspaceSecret secret)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Delete secret",
            $"Delete Secret {secret.Namespace}/{secret.Name} in the cluster? Apps that use it lose it.", yesText: "Delete", cancelText: "Keep it");
        if (confirmed != true || view is null) return;
        var result = await Model.DeleteAsync(Current.TenantId, view.WorkspaceId, secret.Id, User.AsActor(), Aborted);
        if (!result.Succeeded) Snackbar.Add(string.Join(" ", result.Errors.ToDictionary().Values.SelectMany(v => v)), Severity.Error);
        await ReloadAsync();
    }

    private void AddKey() => keyRows.Add(new KeyRow());

    private void RemoveKey(KeyRow row)
    {
        if (keyRows.Count > 1) keyRows.Remove(row);
    }

    private static string StatusText(WorkspaceSecret secret) => secret.Status switch
    {
        SecretStatus.Pending => "sent, waiting for the agent",
        SecretStatus.Applied => "applied",
        SecretStatus.Refused => "refused by the agent",
        SecretStatus.Failed => "failed",
        SecretStatus.Deleting => "deleting",
        _ => secret.Status.ToString(),
    };

    protected override void OnDisposing() => refresh?.Dispose();
}
