using System.Net.Mail;
using Cogrion.Portal.Infrastructure.Input;

namespace Cogrion.Portal.Features.Tenants.Invitations;

public static class EmailAddresses
{
    /// <summary>
    /// A plain address ("erin@example.com"), lower-cased, or null. Display-name forms and anything
    /// <see cref="MailAddress"/> silently rewrites are refused: what we store must be exactly what
    /// the identity provider will assert for the person.
    /// </summary>
    public static string? Normalise(string? input)
    {
        var text = input?.Trim();
        if (string.IsNullOrEmpty(text) || text.Length > 254 || text.Any(char.IsWhiteSpace)
            || InputText.DisplayNameProblem(text) is not null) return null;
        if (!MailAddress.TryCreate(text, out var address) || address.Address != text || address.DisplayName.Length > 0) return null;
        var at = text.LastIndexOf('@');
        // A host without a dot ("user@localhost") cannot receive mail from an identity provider's users.
        if (at <= 0 || !text[(at + 1)..].Contains('.')) return null;
        return text.ToLowerInvariant();
    }
}
