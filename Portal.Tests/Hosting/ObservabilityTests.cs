using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Cogrion.Agent.Protocol;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Cogrion.Portal.Tests.Hosting;

/// <summary>
/// A user's error report leads to the trace: the problem's traceId is the one in the log line of
/// that request, and with an OTLP endpoint configured the Portal's spans and metrics arrive there.
/// The real Portal binary, its real console output, and a small OTLP/HTTP receiver on loopback.
/// </summary>
public sealed class ObservabilityTests : IAsyncLifetime
{
    private string database = "";
    private string connectionString = "";

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        database = await server.CreateMigratedDatabaseAsync("otel");
        connectionString = server.ConnectionString(database);
    }

    public async Task DisposeAsync() => await (await PostgresServer.GetAsync()).DropDatabaseAsync(database);

    /// <summary>A request that is refused and logged: an unreadable body for the (anonymous) agent token endpoint.</summary>
    private static async Task<string> RefusedRequestTraceIdAsync(string baseUrl)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var response = await http.PostAsync(ProtocolV1.Token, new StringContent("{\"assertion\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var traceId = problem.RootElement.GetProperty("traceId").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        return traceId;
    }

    [Fact]
    public async Task A_problems_trace_id_is_in_the_log_line_of_its_request()
    {
        await using var portal = await PortalProcess.StartAsync(PortalProcess.NextBaseUrl(), connectionString, "http://127.0.0.1:9");

        var traceId = await RefusedRequestTraceIdAsync(portal.BaseUrl);

        var line = await Eventually.ValueAsync(
            () => Task.FromResult(portal.Output.Split('\n')
                .FirstOrDefault(l => l.Contains("Refused a bad request", StringComparison.Ordinal) && l.Contains(traceId, StringComparison.Ordinal))),
            l => l is not null, $"a log line of the refused request with trace id {traceId}");
        Assert.Contains("TraceId:" + traceId, line);
        // A refused request is the caller's mistake, logged as information, not as the Portal's error.
        Assert.DoesNotContain("fail:", portal.Output);
    }

    [Fact]
    public async Task With_an_otlp_endpoint_the_requests_span_and_the_portals_metrics_arrive()
    {
        var received = new ConcurrentQueue<(string Path, byte[] Body)>();
        await using var collector = await LoopbackServer.StartAsync(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            received.Enqueue((context.Request.Path.Value!, body.ToArray()));
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/x-protobuf";
        });
        await using var portal = await PortalProcess.StartAsync(PortalProcess.NextBaseUrl(), connectionString, "http://127.0.0.1:9",
            new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseUrl,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            });

        var traceId = Convert.FromHexString(await RefusedRequestTraceIdAsync(portal.BaseUrl));

        // OTLP/protobuf carries a span's trace id as its 16 raw bytes.
        await Eventually.ValueAsync(() => Task.FromResult(received.Any(r => r.Path == "/v1/traces" && r.Body.AsSpan().IndexOf(traceId) >= 0)),
            found => found, "the refused request's span at the collector", TimeSpan.FromSeconds(60));
        // Our own meters ride along: the job engine's queue gauge is observed at every export.
        await Eventually.ValueAsync(()
            => Task.FromResult(received.Any(r => r.Path == "/v1/metrics" && Encoding.UTF8.GetString(r.Body)
            .Contains("cogrion.jobs.queue_depth", StringComparison.Ordinal))),
            found => found, "the Portal's own metrics at the collector", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Without_an_endpoint_no_telemetry_sdk_is_registered_and_with_one_it_is()
    {
        await using var quiet = new PortalAppFactory(connectionString);
        await using var exporting = new PortalAppFactory(connectionString, overrides: new Dictionary<string, string?>
        {
            ["Telemetry:OtlpEndpoint"] = "http://127.0.0.1:9",
            ["Telemetry:OtlpProtocol"] = "http/protobuf",
            ["Jobs:RunWorkers"] = "false",
        });

        Assert.Null(quiet.Services.GetService(typeof(OpenTelemetry.Trace.TracerProvider)));
        Assert.Null(quiet.Services.GetService(typeof(OpenTelemetry.Metrics.MeterProvider)));
        Assert.NotNull(exporting.Services.GetService(typeof(OpenTelemetry.Trace.TracerProvider)));
        Assert.NotNull(exporting.Services.GetService(typeof(OpenTelemetry.Metrics.MeterProvider)));
    }
}
