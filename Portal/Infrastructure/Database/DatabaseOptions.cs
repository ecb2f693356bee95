using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Database;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>An Npgsql connection string. Keep the password out of files: use an environment variable.</summary>
    public string ConnectionString { get; set; } = "";
}

public sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        var errors = new ValidationErrors(DatabaseOptions.Section);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            errors.Add(nameof(options.ConnectionString), "is required (for example Host=127.0.0.1;Port=5432;Database=cogrion;Username=cogrion).");
            return errors.ToResult();
        }
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            if (string.IsNullOrWhiteSpace(parsed.Host)) errors.Add(nameof(options.ConnectionString), "has no Host.");
            if (string.IsNullOrWhiteSpace(parsed.Database)) errors.Add(nameof(options.ConnectionString), "has no Database.");
        }
        catch (ArgumentException ex)
        {
            // The parser's message names the bad keyword, never the value, so it is safe to repeat.
            errors.Add(nameof(options.ConnectionString), $"cannot be parsed: {ex.Message}");
        }
        return errors.ToResult();
    }
}
