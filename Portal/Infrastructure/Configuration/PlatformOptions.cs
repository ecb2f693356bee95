using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.Configuration;

/// <summary>Settings of the Cogrion platform as a whole.</summary>
public sealed class PlatformOptions
{
    public const string Section = "Platform";

    /// <summary>Tenants get <c>&lt;slug&gt;.&lt;BaseDomain&gt;</c> by default.</summary>
    public string BaseDomain { get; set; } = "";

    /// <summary>Shown in the header and page titles.</summary>
    public string ProductName { get; set; } = "Cogrion Portal";
}

public sealed class PlatformOptionsValidator : IValidateOptions<PlatformOptions>
{
    public ValidateOptionsResult Validate(string? name, PlatformOptions options)
    {
        var errors = new ValidationErrors(PlatformOptions.Section);
        errors.RequireText(nameof(options.BaseDomain), options.BaseDomain);
        if (!string.IsNullOrWhiteSpace(options.BaseDomain) && !DnsNames.IsValidDomain(options.BaseDomain))
            errors.Add(nameof(options.BaseDomain), $"must be a DNS domain such as 'cogrion.example'; '{options.BaseDomain}' is not.");
        errors.RequireText(nameof(options.ProductName), options.ProductName);
        return errors.ToResult();
    }
}
