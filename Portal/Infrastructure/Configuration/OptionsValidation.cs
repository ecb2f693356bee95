using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.Configuration;

/// <summary>
/// Collects every problem of one options class, so a bad configuration is reported whole
/// instead of one error per restart.
/// </summary>
public sealed class ValidationErrors
{
    private readonly List<string> errors = [];
    private readonly string section;

    public ValidationErrors(string section) => this.section = section;

    public void Add(string key, string problem) => errors.Add($"{section}:{key} {problem}");

    public void RequireText(string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) Add(key, "is required.");
    }

    public void RequireAbsoluteUrl(string key, string? value, bool requireHttps)
    {
        if (string.IsNullOrWhiteSpace(value)) { Add(key, "is required."); return; }
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            Add(key, $"must be an absolute http(s) URL; '{value}' is not.");
            return;
        }
        if (requireHttps && uri.Scheme != Uri.UriSchemeHttps)
            Add(key, $"must use https (set RequireHttps to false only for local development); '{value}' does not.");
    }

    public ValidateOptionsResult ToResult() =>
        errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}

public static class OptionsRegistration
{
    /// <summary>Binds a section once, validates it with its validator, and fails start-up on any error.</summary>
    public static IServiceCollection AddValidatedOptions<TOptions,
        TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return services;
    }

    /// <summary>
    /// Turns the framework's aggregated start-up validation failure into one line per problem,
    /// so an operator reads what to fix rather than a stack trace.
    /// </summary>
    public static IReadOnlyList<string> DescribeFailures(Exception exception) => exception switch
    {
        OptionsValidationException ove => ove.Failures.ToList(),
        AggregateException agg => agg.InnerExceptions.SelectMany(DescribeFailures).ToList(),
        _ => [],
    };
}
