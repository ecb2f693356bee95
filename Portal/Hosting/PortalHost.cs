using System.Globalization;
using Cogrion.Portal.Components;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Features.Agents.Versions;
using Cogrion.Portal.Features.Audit;
using Cogrion.Portal.Features.CloudAccounts;
using Cogrion.Portal.Features.Jobs;
using Cogrion.Portal.Features.Offboarding;
using Cogrion.Portal.Features.Onboarding;
using Cogrion.Portal.Features.Secrets;
using Cogrion.Portal.Features.Support;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Users;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.Apps;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.DataProtection;
using Cogrion.Portal.Infrastructure.Health;
using Cogrion.Portal.Infrastructure.Http;
using Cogrion.Portal.Infrastructure.Input;
using Cogrion.Portal.Infrastructure.Jobs;
using Cogrion.Portal.Infrastructure.Observability;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Hosting;

/// <summary>What the Portal is made of, and the order requests flow through it.</summary>
public static class PortalHost
{
    public static WebApplicationBuilder AddPortalServices(this WebApplicationBuilder builder)
    {
        // ICU is loaded for Unicode normalisation (ADR 0065), not for local formats: the Portal formats
        // for machines and English readers whatever the host's LANG says.
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        // Serve package assets (MudBlazor's CSS and JS) from a build output in any environment, not just
        // Development: tests and tools/start.sh run the build output as Production. A published
        // Portal has the files in wwwroot and no runtime manifest, so this does nothing there.
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddValidatedOptions<PlatformOptions, PlatformOptionsValidator>(builder.Configuration, PlatformOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddApiProblems();
        builder.Services.AddInputBoundary();
        builder.Services.AddApiDocumentation();
        builder.AddPortalObservability();

        builder.AddPortalReverseProxy();
        builder.AddPortalDatabase();
        builder.AddPortalDataProtection();
        builder.AddPortalAuthentication();
        builder.AddPortalAuditLog();
        builder.AddPortalAudit();
        builder.AddPortalHealthChecks();
        builder.AddPortalAgents();
        builder.AddOpenTofu();
        builder.AddPortalJobEngine();
        builder.AddPortalJobs();
        builder.AddPortalTenants();
        builder.AddPortalCloudAccounts();
        builder.AddPortalOnboarding();
        builder.AddPortalWorkspaces();
        builder.AddPortalSecrets();
        builder.AddPortalOffboarding();
        builder.AddPortalSupport();

        builder.AddPortalUsers();
        builder.Services.TryAddSingleton<Features.Admin.AdminOverviewQueries>();

        builder.AddPortalUserInterface();
        return builder;
    }

    public static WebApplication UsePortalPipeline(this WebApplication app)
    {
        // First: everything after it (sign-in redirect URIs, agent install URLs, the audit's client
        // address) must see the scheme and host the browser used, not the proxy's hop (docs/deployment.md).
        app.UseForwardedHeaders();
        // Then, so that nothing written for a HEAD (an endpoint, an error page, a problem) reaches the client.
        app.UseHeadAsGetWithoutBody();
        app.UseWhen(context => ApiProblems.IsApiRequest(context.Request), api => api.UseExceptionHandler());
        app.UseWhen(context => !ApiProblems.IsApiRequest(context.Request), pages => pages.UseExceptionHandler("/error", createScopeForErrors: true));
        app.UseApiProblemStatusCodes();

        // The brand assets (wwwroot-assets/, copied next to the binary) are public: the landing page needs them.
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "assets")),
            RequestPath = "/assets",
        });

        // Explicit, after the HEAD rewrite (so HEAD is routed as GET) and inside the exception handlers.
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        // Route values, query and form fields are checked before anything uses them (the tenant guard reads the slug).
        app.UseInputBoundary();
        app.UseTenantAccess();
        app.UseAntiforgery();
        app.UseSecretsPageSecurity();
        app.UseSupportPageSecurity();

        app.MapStaticAssets().AllowAnonymous();
        app.MapThemeStylesheet();
        app.MapHealthEndpoints();
        app.MapAccountEndpoints();
        app.MapAgentEndpoints();
        app.MapJobEndpoints();
        app.MapTenantEndpoints();
        app.MapAuditEndpoints();
        app.MapCloudAccountsApi();
        app.MapWorkspacesApi();
        app.MapAppsApi();
        app.MapAgentUpgradesApi();
        app.MapSecretsApi();
        app.MapOffboardingEndpoints();
        app.MapSupportApi();
        app.MapApiDocumentation();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(CircuitWebSocket.ConfigureEndpoint);
        return app;
    }

    /// <summary>Runs until shutdown; a configuration error ends the process listing every problem at once.</summary>
    public static async Task<int> RunPortalAsync(this WebApplication app)
    {
        try
        {
            // Validate every options class before anything resolves one: hosted services are built
            // before the host's own start-up validation, and would report only the first problem.
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            await app.RunAsync();
            return Environment.ExitCode;
        }
        catch (Exception ex) when (OptionsRegistration.DescribeFailures(ex) is { Count: > 0 } problems)
        {
            Console.Error.WriteLine("The Portal cannot start: its configuration is invalid.");
            foreach (var problem in problems) Console.Error.WriteLine($"  - {problem}");
            Console.Error.WriteLine("See appsettings.sample.json for every setting and an example value.");
            return 2;
        }
    }
}
