using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Database;

namespace Cogrion.Portal.Features.Audit;

public static class AuditServiceCollectionExtensions
{
    public static WebApplicationBuilder AddPortalAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.TryAddSingleton(sp => new SecretRedactor(KnownSecrets(sp)));
        builder.Services.TryAddSingleton<AuditLog>();
        builder.Services.TryAddSingleton<AuditQueries>();
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
