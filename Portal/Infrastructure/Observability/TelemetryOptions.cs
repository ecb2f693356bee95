using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;

namespace Cogrion.Portal.Infrastructure.Observability;

/// <summary>
/// Where traces and metrics go (section <c>Telemetry</c>; ADR 0066). The standard OpenTelemetry
/// variables work too: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>,
/// <c>OTEL_SERVICE_NAME</c>, <c>OTEL_RESOURCE_ATTRIBUTES</c>. With neither an endpoint here nor the
/// variable, nothing is exported and the OpenTelemetry SDK is not even registered.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>The standard variable that turns export on when <see cref="OtlpEndpoint"/> is not set.</summary>
    public const string StandardEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The OTLP receiver (a collector, Jaeger, Tempo, the Aspire dashboard). Overrides OTEL_EXPORTER_OTLP_ENDPOINT.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>grpc (the .NET exporter's default, usually port 4317) or http/protobuf (usually 4318). Empty: OTEL_EXPORTER_OTLP_PROTOCOL, else
    /// grpc.</summary>
    public string? OtlpProtocol { get; set; }

    /// <summary>service.name of every span and metric; OTEL_SERVICE_NAME wins when set.</summary>
    public string ServiceName { get; set; } = "cogrion-portal";

    internal static bool TryParseProtocol(string? text, out OtlpExportProtocol protocol)
    {
        protocol = OtlpExportProtocol.Grpc;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "grpc":
                return true;
            case "http/protobuf" or "httpprotobuf":
                protocol = OtlpExportProtocol.HttpProtobuf;
                return true;
            default:
                return false;
        }
    }
}

public sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var errors = new ValidationErrors(TelemetryOptions.Section);
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint)) errors.RequireAbsoluteUrl(nameof(options.OtlpEndpoint), options.OtlpEndpoint,
            requireHttps: false);
        if (!TelemetryOptions.TryParseProtocol(options.OtlpProtocol, out _))
            errors.Add(nameof(options.OtlpProtocol), $"must be grpc or http/protobuf; '{options.OtlpProtocol}' is neither.");
        errors.RequireText(nameof(options.ServiceName), options.ServiceName);
        return errors.ToResult();
    }
}
