using Cogrion.Portal.Infrastructure.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Cogrion.Portal.Infrastructure.Http;

/// <summary>
/// The public API described (ADR 0067): an OpenAPI document of <c>/api/v1</c> built from the
/// endpoints themselves, and Scalar's reference over it at <c>/api/docs</c>, both for signed-in
/// people. Every operation lists the problem responses the pipeline can give it (the input boundary's
/// 400, sign-in's 401, authorization's 403, the tenant guard's 404, the binder's 415), so a client
/// knows every error is RFC 7807. Scalar's script is served from the Portal itself, with its fonts,
/// telemetry, AI agent and MCP features off: the page loads nothing from a third party.
/// </summary>
public static class ApiDocumentation
{
    public const string DocumentName = "v1";
    /// <summary>One document, at a literal path: a route with {documentName} would answer other names with the framework's plain-text 404.</summary>
    public const string DocumentPath = "/api/openapi/v1.json";
    public const string DocsPath = "/api/docs";
    private const string ProblemJson = "application/problem+json";

    public static IServiceCollection AddApiDocumentation(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = description => IsPublicApi(description.RelativePath);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Cogrion Portal API",
                    Version = DocumentName,
                    Description = "Tenants, cloud accounts, workspaces and the operators' agent levers. Calls are made as a signed-in " +
                        "person (the Portal's session cookie); a tenant one cannot see answers 404 like one that does not exist. Every " +
                        "error is an RFC 7807 problem with a traceId that leads to the request's trace. Agents use their own protocol " +
                        "(/api/agent/v1, docs/agent-protocol.md), which is not part of this document.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(AddProblemResponsesAsync);
        });

    public static IEndpointRouteBuilder MapApiDocumentation(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(DocumentPath).WithMetadata(new UserScopedAttribute()).ExcludeFromDescription();
        endpoints.MapScalarApiReference(DocsPath, options => options
                .WithTitle("Cogrion Portal API")
                .WithOpenApiRoutePattern(DocumentPath)
                .AddDocument(DocumentName)
                .DisableDefaultFonts()
                .DisableTelemetry()
                .DisableAgent()
                .DisableMcp())
            .WithMetadata(new UserScopedAttribute());
        return endpoints;
    }

    /// <summary>The documented API: everything under /api/v1 (the agent protocol has its own document, docs/agent-protocol.md).</summary>
    public static bool IsPublicApi(string? relativePath) =>
        relativePath is not null && (relativePath == "api/v1" || relativePath.StartsWith("api/v1/", StringComparison.Ordinal));

    private static async Task AddProblemResponsesAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context,
        CancellationToken cancellationToken)
    {
        var problem = await SchemaAsync(typeof(ProblemDetails), context, cancellationToken);
        var validation = await SchemaAsync(typeof(HttpValidationProblemDetails), context, cancellationToken);
        var hasInput = context.Description.ParameterDescriptions.Count > 0;
        var hasBody = operation.RequestBody is not null;
        var hasRouteValues = context.Description.ParameterDescriptions.Any(p => p.Source.Id == "Path");

        operation.Responses ??= new OpenApiResponses();
        Add(operation, "400", "The input is not valid: errors name each field (an unreadable body is the field \"body\").", hasInput || hasBody
            ? validation : null);
        Add(operation, "401", "Not signed in.", problem);
        Add(operation, "403", "Signed in, without the role this needs.", problem);
        Add(operation, "404", "No such object here; a tenant you cannot see answers like one that does not exist.", hasRouteValues ? problem : null);
        Add(operation, "415", "The body is not application/json.", hasBody ? problem : null);
        // Problems, whichever status: the framework's own answers are rewritten to problem details too.
        foreach (var (status, response) in operation.Responses)
        {
            if (!status.StartsWith('4') || response is not OpenApiResponse { Content: { } content }) continue;
            if (content.Remove("application/json", out var json) && !content.ContainsKey(ProblemJson)) content[ProblemJson] = json;
        }
    }

    private static void Add(OpenApiOperation operation, string status, string description, IOpenApiSchema? schema)
    {
        if (schema is null || operation.Responses!.ContainsKey(status)) return;
        operation.Responses[status] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { [ProblemJson] = new() { Schema = schema } },
        };
    }

    /// <summary>The problem schemas, defined once under components and referenced from every operation.</summary>
    private static async Task<IOpenApiSchema> SchemaAsync(Type type, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document!;
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        if (!document.Components.Schemas.ContainsKey(type.Name))
            document.Components.Schemas[type.Name] = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
        return new OpenApiSchemaReference(type.Name, document);
    }
}
