using System.Diagnostics;
using System.Reflection;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.Health;
using Cogrion.Portal.Infrastructure.Metrics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cogrion.Portal.Infrastructure.Observability;

/// <summary>
/// Traces and metrics with OpenTelemetry (ADR 0066): ASP.NET Core, HttpClient, Npgsql and the
/// Portal's own sources and meters (every <c>Cogrion.Portal.*</c> name: the job engine, the agent
/// API), exported over OTLP when an endpoint is configured. Every request has a W3C trace id whether
/// or not anything is exported: it is in every log line written for the request (the console
/// formatter prints the logging scopes) and in every problem response (<c>traceId</c>), so a user's
/// error report leads to the trace.
/// </summary>
public static class ObservabilityServiceCollectionExtensions
{
    /// <summary>Sources and meters of our own; each feature names its own under this prefix.</summary>
    public const string PortalInstrumentation = "Cogrion.Portal.*";

    /// <summary>The job engine is a library of its own (Cogrion.Jobs), with its own source and meter.</summary>
    private const string JobEngineInstrumentation = Cogrion.Jobs.JobMetrics.MeterName;

    public static WebApplicationBuilder AddPortalObservability(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<TelemetryOptions, TelemetryOptionsValidator>(builder.Configuration, TelemetryOptions.Section);
        // The ids every log line carries in its scope (the hosting layer starts an Activity for every request).
        builder.Logging.Configure(options => options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);

        var settings = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var endpoint = string.IsNullOrWhiteSpace(settings.OtlpEndpoint) ? builder.Configuration[TelemetryOptions.StandardEndpointVariable]
            : settings.OtlpEndpoint;
        // No endpoint: no SDK, no listeners, no cost. A bad setting is reported by the validator at start-up.
        if (string.IsNullOrWhiteSpace(endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var endpointUri)) return builder;

        var version = typeof(ObservabilityServiceCollectionExtensions)
            .Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource
                => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? settings.ServiceName, serviceVersion: version))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddSource(PortalInstrumentation, JobEngineInstrumentation))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(PortalInstrumentation, JobEngineInstrumentation));
        if (string.IsNullOrWhiteSpace(settings.OtlpEndpoint))
            telemetry.UseOtlpExporter(); // the standard variables, read by the exporter itself
        else
        {
            TelemetryOptions.TryParseProtocol(settings.OtlpProtocol ?? builder.Configuration["OTEL_EXPORTER_OTLP_PROTOCOL"], out var protocol);
            telemetry.UseOtlpExporter(protocol, endpointUri);
        }
        return builder;
    }

    /// <summary>Probes and scrapes run every few seconds and say nothing about a user's request.</summary>
    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments(HealthEndpoints.LivePath) || path.StartsWithSegments(HealthEndpoints.ReadyPath)
            || path.StartsWithSegments(MetricsEndpoints.Path);

    /// <summary>The trace id of the current request as trace backends show it (32 hex digits), or the request id when there is no trace.</summary>
    public static string TraceId(HttpContext context) =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.TraceId.ToHexString() : context.TraceIdentifier;
}
