using System.Text.RegularExpressions;
using Cogrion.Jobs;
using Cogrion.Jobs.Recurring;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Offboarding;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Support;

public static partial class SupportServiceCollectionExtensions
{
    /// <summary>Support access (docs/support-access.md): requests, passkeys and approver sets, sessions, result handlers, clock endings.</summary>
    public static WebApplicationBuilder AddPortalSupport(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton<SupportApprovers>();
        services.TryAddSingleton<SupportRequests>();
        services.TryAddSingleton<SupportSessions>();
        services.TryAddSingleton<SupportScript>();
        services.AddSingleton<IAgentCommandResultHandler, SupportResultHandlers.Grant>();
        services.AddSingleton<IAgentCommandResultHandler, SupportResultHandlers.Revoke>();
        services.AddSingleton<IAgentCommandResultHandler, SupportResultHandlers.Action>();
        services.AddSingleton<IAgentCommandResultHandler, SupportResultHandlers.Approvers>();
        services.AddJobHandler<SupportHousekeepingHandler, SupportHousekeepingJob>();
        services.AddRecurringJob(SupportHousekeepingJob.Kind, JobSchedule.Every(TimeSpan.FromMinutes(1)), new SupportHousekeepingJob());
        // A leaving tenant's requests and grants end in its offboarding's revocation step.
        services.AddSingleton<IOffboardingRevoker, SupportOffboardingRevoker>();
        return builder;
    }

    /// <summary>
    /// The passkey pages get the Secrets page's strict policy: scripts from this origin only (the SRI-pinned
    /// support module among them), nothing inline, connections back here only. The WebAuthn ceremony runs in
    /// this document, so an injected script cannot swap the challenge it signs.
    /// </summary>
    public const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

    [GeneratedRegex("^(/t/[^/]+/support|/admin/support(/[^/]+)?)/?$")]
    private static partial Regex PagePath();

    public static IApplicationBuilder UseSupportPageSecurity(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (PagePath().IsMatch(context.Request.Path.Value ?? ""))
        {
            context.Response.Headers.ContentSecurityPolicy = Policy;
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
        }
        await next(context);
    });
}

/// <summary>The support module (wwwroot/js/support.js) and its Subresource Integrity hash, computed once from the served file.</summary>
public sealed class SupportScript(IWebHostEnvironment environment)
{
    public const string Path = "js/support.js";

    private readonly Lazy<string> integrity = new(() =>
    {
        var file = environment.WebRootFileProvider.GetFileInfo(Path);
        using var stream = file.CreateReadStream();
        return "sha384-" + Convert.ToBase64String(System.Security.Cryptography.SHA384.HashData(stream));
    });

    public string Integrity => integrity.Value;
}

