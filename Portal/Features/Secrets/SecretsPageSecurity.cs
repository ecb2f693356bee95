using System.Text.RegularExpressions;

namespace Cogrion.Portal.Features.Secrets;

/// <summary>
/// A strict Content-Security-Policy on the Secrets page's document: scripts only from this origin (the
/// framework's, MudBlazor's and the SRI-pinned secrets module), no inline or evaluated script, connections
/// only back here. A script injected into the page could read a value before it is sealed; this stops one
/// from running or sending it elsewhere. Links to the page load it as a document of its own (target=_top),
/// so the policy applies to the whole visit.
/// </summary>
public static partial class SecretsPageSecurity
{
    public const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

    [GeneratedRegex("^/t/[^/]+/workspaces/[^/]+/secrets/?$")]
    private static partial Regex PagePath();

    public static IApplicationBuilder UseSecretsPageSecurity(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (PagePath().IsMatch(context.Request.Path.Value ?? ""))
        {
            context.Response.Headers.ContentSecurityPolicy = Policy;
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
        }
        await next(context);
    });
}
