using System.Text.Json;
using Cogrion.Portal.Infrastructure.Database;
using Dapper;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Cogrion.Portal.Infrastructure.Health;

/// <summary>
/// <c>/healthz</c>: the process answers (liveness; never touches the database, so a database
/// outage does not get the Portal restarted). <c>/readyz</c>: the database answers and the
/// schema is current (readiness; a load balancer sends traffic only then).
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";
    public const string LivePath = "/healthz";
    public const string ReadyPath = "/readyz";

    public static WebApplicationBuilder AddPortalHealthChecks(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCheck<DatabaseReadinessCheck>("database", tags: [ReadyTag]);
        return builder;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .AllowAnonymous().DisableHttpMetrics();
        endpoints.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .AllowAnonymous().DisableHttpMetrics();
        return endpoints;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }
}

public sealed class DatabaseReadinessCheck(NpgsqlDataSource dataSource, MigrationStatus migrations) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (migrations.State != MigrationState.Applied)
            return HealthCheckResult.Unhealthy(migrations.Problem ?? "Database migrations have not been applied yet.");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("select 1", cancellationToken: timeout.Token));
            return HealthCheckResult.Healthy($"Schema version {migrations.Version}.");
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer.");
        }
    }
}
