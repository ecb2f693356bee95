using System.Collections.Frozen;
using System.Text;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.Input;

namespace Cogrion.Portal.Features.Tenants;

/// <summary>
/// The shape rules of a tenant's name, slug and domain: pure functions, so the wizard can check
/// as the person types and the store checks again (with uniqueness) inside its transaction.
/// Each check returns the message to show next to the field, or null when the value is fine.
/// </summary>
public static class TenantRules
{
    public const int MinSlugLength = 3;
    public const int MaxNameLength = 100;

    /// <summary>
    /// Slugs that would be confusing or dangerous as a tenant's URL segment or first domain label:
    /// the Portal's own words, infrastructure host names, and names that impersonate the operator.
    /// </summary>
    public static readonly FrozenSet<string> ReservedSlugs = new[]
    {
        "admin", "administrator", "api", "app", "apps", "assets", "audit", "auth", "account", "accounts",
        "billing", "cogrion", "dashboard", "dev", "docs", "help", "id", "identity", "internal", "keycloak",
        "login", "logout", "mail", "new", "onboarding", "platform", "portal", "root", "security", "settings",
        "signin", "signout", "smtp", "staff", "static", "status", "support", "system", "tenant", "tenants",
        "test", "www",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>A name other people read: no text that cannot be stored, no bidirectional or invisible characters (<see
    /// cref="InputText"/>).</summary>
    public static string? CheckName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "Enter the organisation's name.";
        if (InputText.DisplayNameProblem(name) is { } problem) return problem;
        if (NormaliseName(name).Length > MaxNameLength) return $"Use at most {MaxNameLength} characters.";
        return null;
    }

    /// <summary>The spelling a name is stored in (trimmed, NFC); text a rule refuses is left as it is for the rule to report.</summary>
    public static string NormaliseName(string name) => InputText.NormalizeNameOrNull(name)!;

    public static string? CheckSlug(string? slug)
    {
        if (string.IsNullOrWhiteSpace(slug)) return "Choose a slug: it names the tenant in every link and in its domain.";
        if (slug.Length < MinSlugLength) return $"Use at least {MinSlugLength} characters.";
        if (slug.Length > DnsNames.MaxLabelLength) return $"Use at most {DnsNames.MaxLabelLength} characters (a DNS label).";
        if (!DnsNames.IsValidLabel(slug))
            return "Use lower-case letters, digits and hyphens only, starting and ending with a letter or digit.";
        if (ReservedSlugs.Contains(slug)) return $"'{slug}' is reserved; choose another slug.";
        return null;
    }

    /// <summary>
    /// A domain must be a valid DNS name strictly inside its parent zone: the parent tenant's domain
    /// for a child, the platform's base domain for a root tenant. Staying inside the zone the
    /// platform controls is what lets a tenant pick any name there without proving DNS ownership.
    /// </summary>
    public static string? CheckDomain(string? domain, string parentZone)
    {
        if (string.IsNullOrWhiteSpace(domain)) return "Enter a domain.";
        if (!DnsNames.IsValidDomain(domain))
            return "Enter a DNS name such as 'acme." + parentZone + "' (lower-case letters, digits, hyphens and dots).";
        if (!IsStrictlyInside(domain, parentZone))
            return $"The domain must end with '.{parentZone}'.";
        return null;
    }

    public static string DefaultDomain(string slug, string parentZone) => $"{slug}.{parentZone}";

    public static bool IsStrictlyInside(string domain, string zone) =>
        domain.Length > zone.Length + 1 && domain.EndsWith("." + zone, StringComparison.Ordinal);

    /// <summary>Trims and lower-cases what a person typed; DNS names are case-insensitive and we store one spelling.</summary>
    public static string Normalise(string? value) => (value ?? "").Trim().ToLowerInvariant();

    /// <summary>A slug or domain that cannot be stored cannot exist: lookups answer "not found" without asking the database.</summary>
    public static bool CanExist(string? value) => InputText.IsStorable(value);

    /// <summary>A slug suggestion from an organisation's name: "Acme Data, Inc." becomes "acme-data-inc".</summary>
    public static string SuggestSlug(string? name)
    {
        var slug = new StringBuilder();
        foreach (var c in Normalise(name))
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-') slug.Append('-');
        }
        var text = slug.ToString();
        if (text.Length > DnsNames.MaxLabelLength) text = text[..DnsNames.MaxLabelLength];
        return text.Trim('-');
    }
}
