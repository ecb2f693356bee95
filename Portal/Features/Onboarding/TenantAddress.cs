using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Onboarding;

/// <summary>
/// The onboarding address step without its page: a slug, and a domain that follows the slug until the
/// person edits it. Checks run as the person types; the answer to an older keystroke that arrives
/// after a newer one is dropped, so the page never shows a verdict about text no longer in the field.
/// </summary>
public sealed class TenantAddress
{
    private readonly string baseDomain;
    private int checkVersion;
    private string? checkedSlug;

    private TenantAddress(string baseDomain) => this.baseDomain = baseDomain;

    public string? Slug { get; private set; }
    public string? Domain { get; private set; }
    public bool DomainEdited { get; private set; }
    public FieldErrors Errors { get; private set; } = new();

    public bool IsValid => !Errors.Has("slug") && !Errors.Has("domain");

    /// <summary>"'acme' is available." once the current slug passed its check; null otherwise.</summary>
    public string? SlugStatus => !Errors.Has("slug") && checkedSlug == Slug && !string.IsNullOrEmpty(Slug) ? $"'{Slug}' is available." : null;

    public static TenantAddress FromDraft(OnboardingDraft draft, string baseDomain)
    {
        var address = new TenantAddress(baseDomain) { Slug = draft.Slug, DomainEdited = draft.DomainEdited };
        address.Domain = address.DomainEdited ? draft.Domain : address.DefaultDomain();
        return address;
    }

    public void SetSlug(string? value)
    {
        Slug = TenantRules.Normalise(value);
        if (!DomainEdited) Domain = DefaultDomain();
    }

    public void SetDomain(string? value)
    {
        Domain = TenantRules.Normalise(value);
        DomainEdited = Domain != DefaultDomain();
    }

    /// <summary>Runs the tenant rules (availability included) on the current slug and domain.</summary>
    public async Task CheckAsync(Func<NewTenant, Task<FieldErrors>> validate, string? name)
    {
        var version = ++checkVersion;
        var slug = Slug;
        var result = await validate(new NewTenant(name, slug, Domain));
        if (version != checkVersion) return;
        Errors = result;
        checkedSlug = slug;
    }

    public OnboardingDraft ToDraft(OnboardingDraft draft) => draft with { Slug = Slug, Domain = Domain, DomainEdited = DomainEdited };

    private string? DefaultDomain() => string.IsNullOrEmpty(Slug) ? null : TenantRules.DefaultDomain(Slug, baseDomain);
}
