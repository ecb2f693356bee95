namespace Cogrion.Portal.Infrastructure.Http;

/// <summary>RFC 7807 problem details for everything under /api, including what middleware answers on its own.</summary>
public static class ApiProblems
{
    public static bool IsApiRequest(HttpRequest request) => request.Path.StartsWithSegments("/api");

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

    private static string ReasonFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "The request is not valid.",
        StatusCodes.Status401Unauthorized => "Authentication required.",
        StatusCodes.Status403Forbidden => "You are not allowed to do this.",
        StatusCodes.Status404NotFound => "Not found.",
        StatusCodes.Status405MethodNotAllowed => "Method not allowed.",
        StatusCodes.Status429TooManyRequests => "Too many requests; slow down and retry later.",
        _ => "The request failed.",
    };
}
