using Cogrion.Portal.Infrastructure.Configuration;
using Dapper;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Database;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>One pooled <see cref="NpgsqlDataSource"/> for the process, and the migrations that must run before anything reads it.</summary>
    public static WebApplicationBuilder AddPortalDatabase(this WebApplicationBuilder builder)
    {
        DapperConventions.Register();
        builder.Services.AddValidatedOptions<DatabaseOptions, DatabaseOptionsValidator>(builder.Configuration, DatabaseOptions.Section);
        builder.Services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            var dataSource = new NpgsqlDataSourceBuilder(options.ConnectionString)
            {
                ConnectionStringBuilder = { ApplicationName = "cogrion-portal" },
            };
            dataSource.UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>());
            return dataSource.Build();
        });
        builder.Services.TryAddSingleton<MigrationRunner>();
        builder.Services.TryAddSingleton<MigrationStatus>();
        builder.Services.AddHostedService<DatabaseMigrationService>();
        // The tenant pages' live updates (migration 0045's triggers); every page of a tenant may listen.
        builder.Services.AddNotificationSubscriber<TenantChanges>();
        return builder;
    }
}

/// <summary>Dapper settings shared by every query: snake_case columns and UTC timestamps.</summary>
public static class DapperConventions
{
    private static int registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1) return;
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        // Dapper maps DateTimeOffset itself unless its built-in entry is removed first.
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset?));
        SqlMapper.AddTypeHandler(new UtcDateTimeOffsetHandler());
    }

    /// <summary>PostgreSQL's timestamptz is an instant; Npgsql reads it as a UTC DateTime and only writes offset-zero values.</summary>
    private sealed class UtcDateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(System.Data.IDbDataParameter parameter, DateTimeOffset value) =>
            parameter.Value = value.ToUniversalTime();

        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
            DateTimeOffset dto => dto,
            _ => throw new InvalidCastException($"Cannot read {value.GetType().Name} as a timestamp."),
        };
    }
}

public static class NotificationsServiceCollectionExtensions
{
    /// <summary>
    /// Subscribes <typeparamref name="TSubscriber"/> (a singleton) to its channel on the process's one
    /// LISTEN connection, adding <see cref="PostgresNotifications"/> on first use. Needs DatabaseOptions
    /// and MigrationStatus from the host.
    /// </summary>
    public static IServiceCollection AddNotificationSubscriber<TSubscriber>(this IServiceCollection services)
        where TSubscriber : class, INotificationSubscriber
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TSubscriber>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<INotificationSubscriber, TSubscriber>(sp => sp.GetRequiredService<TSubscriber>()));
        if (services.Any(d => d.ServiceType == typeof(PostgresNotifications))) return services;
        services.AddSingleton<PostgresNotifications>();
        services.AddHostedService(sp => sp.GetRequiredService<PostgresNotifications>());
        return services;
    }
}
