using Cogrion.Portal.Infrastructure.Observability;

namespace Cogrion.Portal.Infrastructure.Http;

/// <summary>RFC 7807 problem details for everything under /api, including what middleware answers on its own.</summary>
public static class ApiProblems
{
    /// <summary>The extension every problem carries: the request's trace id, as the logs and the trace backend show it.</summary>
    public const string TraceIdExtension = "traceId";

    /// <summary>
    /// Problem details for every error answer (the framework's and ours), each with the request's
    /// <see cref="TraceIdExtension"/>, and the API's own answers to a failed authorization.
    /// </summary>
    public static IServiceCollection AddApiProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions[TraceIdExtension] = ObservabilityServiceCollectionExtensions.TraceId(context.HttpContext));
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ApiAuthorizationResultHandler>();
        return services;
    }

    /// <summary>Under /api, except the API's reference page (/api/docs), which is a page for people: signed out, they are sent to sign in.</summary>
    public static bool IsApiRequest(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") && !request.Path.StartsWithSegments(ApiDocumentation.DocsPath);

    /// <summary>Requests a browser makes behind the page's back (the Blazor circuit): a redirect to a login page helps nobody.</summary>
    public static bool IsBackgroundRequest(HttpRequest request) =>
        IsApiRequest(request) || request.Path.StartsWithSegments("/_blazor");

    public static Task WriteAsync(HttpContext context, int status, string title, string? detail = null) =>
        Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);

    /// <summary>Answers error status codes under /api with problem details; pages get the error page instead.</summary>
    public static IApplicationBuilder UseApiProblemStatusCodes(this IApplicationBuilder app) =>
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (IsApiRequest(http.Request))
                await WriteAsync(http, http.Response.StatusCode, ReasonFor(http.Response.StatusCode));
            else if (http.Response.StatusCode == StatusCodes.Status404NotFound && HttpMethods.IsGet(http.Request.Method))
                http.Response.Redirect("/not-found");
        });

    internal static string ReasonFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "The request is not valid.",
        StatusCodes.Status401Unauthorized => "Authentication required.",
        StatusCodes.Status403Forbidden => "You are not allowed to do this.",
        StatusCodes.Status404NotFound => "Not found.",
        StatusCodes.Status405MethodNotAllowed => "Method not allowed.",
        StatusCodes.Status413PayloadTooLarge => "The request is too large.",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported media type.",
        StatusCodes.Status429TooManyRequests => "Too many requests; slow down and retry later.",
        _ => "The request failed.",
    };
}
