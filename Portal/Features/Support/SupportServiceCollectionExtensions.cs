using System.Text.RegularExpressions;
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
        services.AddHostedService<SupportHousekeeping>();
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

/// <summary>Records expiries and endings once each and deletes what support read under ended grants; idempotent on every replica.</summary>
public sealed class SupportHousekeeping(SupportRequests requests, MigrationStatus migrations, TimeProvider time,
    ILogger<SupportHousekeeping> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await migrations.WaitUntilAppliedAsync(stoppingToken);
            using var timer = new PeriodicTimer(Interval, time);
            do
            {
                try
                {
                    var ended = await requests.RecordClockEndingsAsync(stoppingToken);
                    if (ended > 0) logger.LogInformation("Deleted the answers of {Count} ended support grant(s)", ended);
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
                {
                    logger.LogWarning("Support housekeeping skipped a round: {Problem}", ex.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
        catch (MigrationException)
        {
        }
    }
}
