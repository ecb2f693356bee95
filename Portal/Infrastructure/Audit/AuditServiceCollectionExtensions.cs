using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Database;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Audit;

public static class AuditServiceCollectionExtensions
{
    /// <summary>The one writer of the audit trail (<see cref="AuditLog"/>) and the redactor every writer of stored text uses.</summary>
    public static WebApplicationBuilder AddPortalAuditLog(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.TryAddSingleton(sp => new SecretRedactor(KnownSecrets(sp)));
        builder.Services.TryAddSingleton<AuditLog>();
        return builder;
    }

    /// <summary>The secrets the Portal holds in its own configuration; none may ever be written to the trail.</summary>
    private static IEnumerable<string?> KnownSecrets(IServiceProvider services)
    {
        yield return services.GetRequiredService<IOptions<KeycloakOptions>>().Value.ClientSecret;
        var connectionString = services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString;
        if (!string.IsNullOrWhiteSpace(connectionString))
            yield return new NpgsqlConnectionStringBuilder(connectionString).Password;
    }
}
