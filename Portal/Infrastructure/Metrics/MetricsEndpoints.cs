using System.Net;
using System.Security.Cryptography;
using System.Text;
using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.Metrics;

/// <summary>Who may read /metrics (section <c>Metrics</c>; ADR 0013).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>False removes the endpoint.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// When set, a scrape must send <c>Authorization: Bearer &lt;token&gt;</c> (Prometheus'
    /// <c>authorization.credentials_file</c>). When empty, only scrapes from the loopback interface are
    /// answered (a sidecar or node agent). A secret: set it through the environment.
    /// </summary>
    public string? BearerToken { get; set; }
}

public sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsOptions options)
    {
        var errors = new ValidationErrors(MetricsOptions.Section);
        if (!string.IsNullOrEmpty(options.BearerToken) && options.BearerToken.Length < 24)
            errors.Add(nameof(options.BearerToken),
                "must be at least 24 characters (a random string, e.g. from 'openssl rand -hex 24'), or empty to allow loopback scrapes only.");
        return errors.ToResult();
    }
}

public static class MetricsEndpoints
{
    public const string Path = "/metrics";

    public static IServiceCollection AddPortalMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<MetricsOptions, MetricsOptionsValidator>(configuration, MetricsOptions.Section);
        services.AddMetrics();
        services.AddSingleton<PrometheusExporter>();
        return services;
    }

    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!options.Enabled) return endpoints;
        // Start listening now, before the first job runs: a MeterListener only sees measurements made after it starts.
        endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();
        // Anonymous to the cookie scheme (Prometheus has no session); access is decided below.
        endpoints.MapGet(Path, ScrapeAsync).AllowAnonymous().DisableHttpMetrics().ExcludeFromDescription();
        return endpoints;
    }

    private static async Task<IResult> ScrapeAsync(
        HttpContext context, PrometheusExporter exporter, IEnumerable<IMetricsSnapshotSource> sources, IOptions<MetricsOptions> options,
            CancellationToken cancellationToken)
    {
        if (!IsAllowed(context, options.Value.BearerToken))
            return Results.Text("Scrapes need the metrics bearer token (or come from loopback when none is set).\n", "text/plain",
                statusCode: StatusCodes.Status401Unauthorized);
        foreach (var source in sources) await source.RefreshAsync(cancellationToken);
        return Results.Text(exporter.Scrape(), "text/plain; version=0.0.4; charset=utf-8");
    }

    internal static bool IsAllowed(HttpContext context, string? token)
    {
        if (string.IsNullOrEmpty(token))
            return context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        // Constant-time, so the token cannot be guessed a character at a time from response timings.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token));
    }
}
