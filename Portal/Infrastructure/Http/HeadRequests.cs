namespace Cogrion.Portal.Infrastructure.Http;

/// <summary>
/// HEAD is GET without the body (RFC 9110 §9.3.2): it is routed as GET, so it finds the same
/// endpoint, authorization and status, and whatever the endpoint, an error page or a problem writes
/// is discarded. Minimal APIs and Razor components map GET only; without this a HEAD would be a 405
/// whose problem body some servers (the in-process test server among them) send.
/// </summary>
public static class HeadRequests
{
    /// <summary>Before routing, so the route is chosen as for GET.</summary>
    public static IApplicationBuilder UseHeadAsGetWithoutBody(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await next(context);
            return;
        }
        context.Request.Method = HttpMethods.Get;
        var body = context.Response.Body;
        context.Response.Body = Stream.Null;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
            context.Request.Method = HttpMethods.Head;
        }
    });
}
