using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Secrets;
using Microsoft.JSInterop;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>One secret field for the browser module: the Secret to seal it for, its next version, and the plain input holding it.</summary>
public sealed record SecretFieldToSeal(string Namespace, string Name, long Version, string Key, string InputId, string Field);

/// <summary>What the browser module answered: ciphertext for each filled secret field, or why it sealed nothing (never a value).</summary>
public sealed record SealedFields(bool Ok, string? Message, IReadOnlyList<string>? Sealed, string? Field);

/// <summary>The outcome for the page: the sealed values to send, or the refusal to show on <see cref="Field"/>.</summary>
public sealed record SealOutcome(IReadOnlyList<SealedSecret> Secrets, string? Error, string? Field)
{
    public bool Ok => Error is null;
}

/// <summary>
/// The secret fields of the install and upgrade forms, sealed by the same browser module as the Secrets page
/// (wwwroot/js/secrets.js): it checks the agent's key against the fingerprint this browser pinned, reads each plain
/// input (never bound to Blazor) and returns ciphertext only. This class passes metadata and ciphertext; no value.
/// </summary>
public sealed class AppSecretSealing(EncryptionKeyDirectory keys, SecretRelay relay)
{
    public async Task<SealOutcome> SealAsync(IJSRuntime js, string pinOwner, Guid tenantId, Guid workspaceId, CatalogApp app, AppForm form,
        CancellationToken cancellationToken)
    {
        var fields = form.AllFields.Where(f => f is { Kind: AppFieldKind.Secret, SecretName: not null }).ToList();
        if (fields.Count == 0) return new SealOutcome([], null, null);
        var existing = await relay.ListAsync(tenantId, workspaceId, cancellationToken);
        var items = fields.Select(f => new SecretFieldToSeal(app.Id, f.SecretName!, SecretsPageModel.NextVersion(existing, app.Id, f.SecretName!),
            CatalogApp.SecretKey, f.InputId, f.Field)).ToList();
        var offer = await keys.OfferAsync(tenantId, workspaceId, cancellationToken);
        var answer = await js.InvokeAsync<SealedFields>("cogrionSecrets.sealEach", cancellationToken, pinOwner, offer, items);
        if (!answer.Ok) return new SealOutcome([], answer.Message ?? "The browser sealed nothing.", answer.Field);
        var secrets = new List<SealedSecret>();
        foreach (var json in answer.Sealed ?? [])
            if (JsonSerializer.Deserialize(json, ProtocolJson.Default.SealedSecret) is { } sealedSecret) secrets.Add(sealedSecret);
        return new SealOutcome(secrets, null, null);
    }
}
