using System.Globalization;
using System.Text;
using System.Text.Json;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Audit;

/// <summary>
/// <c>GET /api/v1/tenants/{tenant}/audit/export?format=csv|json</c>: the tenant's audit trail (and its
/// descendants'), with the same filters as the page, streamed oldest first as it is read.
/// </summary>
public static class AuditExport
{
    /// <summary>Mapped by the audit feature under the tenant's API, with the same tenant-role rule as the tenant's other endpoints.</summary>
    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/tenants/{tenant}/audit/export", ExportAsync).RequireTenantRole(TenantRole.Admin)
            .Produces(StatusCodes.Status200OK, contentType: "text/csv", additionalContentTypes: ["application/json"]);
        return endpoints;
    }

    private static readonly string[] Columns =
        ["id", "occurred_at", "tenant_id", "actor_kind", "actor_id", "actor_name", "action", "target_kind", "target_id", "request_id", "details"];

    public static IResult ExportAsync(
        HttpContext http, TenantContext context, AuditQueries queries, TimeProvider time,
        string? format, string? action, string? actor, string? actorKind, DateTimeOffset? from, DateTimeOffset? to)
    {
        var kind = (format ?? "csv").Trim().ToLowerInvariant();
        if (kind is not ("csv" or "json"))
            return TypedResults.ValidationProblem(FieldErrors.Single("format", "Choose csv or json.").ToDictionary());

        var scope = new AuditScope.TenantSubtree(context.TenantId);
        var filter = new AuditFilter(from, to, action, actor, actorKind);
        var fileName = $"audit-{context.Slug}-{time.GetUtcNow():yyyyMMdd-HHmmss}.{kind}";
        return kind == "csv"
            ? Results.Stream(stream => WriteCsvAsync(stream, queries.StreamAsync(scope, filter, http.RequestAborted)), "text/csv; charset=utf-8",
                fileName)
            : Results.Stream(stream => WriteJsonAsync(stream, queries.StreamAsync(scope, filter, http.RequestAborted)), "application/json", fileName);
    }

    private static async Task WriteCsvAsync(Stream stream, IAsyncEnumerable<AuditEvent> events)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: 16 * 1024);
        await writer.WriteLineAsync(string.Join(',', Columns));
        var count = 0;
        await foreach (var e in events)
        {
            string?[] fields = [e.Id.ToString(CultureInfo.InvariantCulture), e.OccurredAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                e.TenantId?.ToString(), e.ActorKind, e.ActorId, e.ActorName, e.Action, e.TargetKind, e.TargetId, e.RequestId, e.Details];
            await writer.WriteLineAsync(string.Join(',', fields.Select(Csv)));
            if (++count % 500 == 0) await writer.FlushAsync();
        }
    }

    /// <summary>RFC 4180 quoting, and a leading quote for cells a spreadsheet would run as a formula.</summary>
    internal static string Csv(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }

    private static async Task WriteJsonAsync(Stream stream, IAsyncEnumerable<AuditEvent> events)
    {
        await using var json = new Utf8JsonWriter(stream);
        json.WriteStartArray();
        var count = 0;
        await foreach (var e in events)
        {
            json.WriteStartObject();
            json.WriteNumber("id", e.Id);
            json.WriteString("occurredAt", e.OccurredAt);
            if (e.TenantId is { } tenantId) json.WriteString("tenantId", tenantId); else json.WriteNull("tenantId");
            json.WriteString("actorKind", e.ActorKind);
            json.WriteString("actorId", e.ActorId);
            json.WriteString("actorName", e.ActorName);
            json.WriteString("action", e.Action);
            json.WriteString("targetKind", e.TargetKind);
            json.WriteString("targetId", e.TargetId);
            json.WriteString("requestId", e.RequestId);
            json.WritePropertyName("details");
            json.WriteRawValue(e.Details); // jsonb text from the database: valid JSON by construction.
            json.WriteEndObject();
            if (++count % 500 == 0) await json.FlushAsync();
        }
        json.WriteEndArray();
        await json.FlushAsync();
    }
}
