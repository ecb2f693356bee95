using Cogrion.Jobs;
using Cogrion.Jobs.Recurring;
using Cogrion.Portal.Features.Agents.Authentication;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Features.Agents.Install;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.Database;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Agents;

public static class AgentsServiceCollectionExtensions
{
    /// <summary>The Cluster Agent feature: protocol endpoints, their authentication scheme, the command queue and its subscription to the process's
    /// notifications.</summary>
    public static WebApplicationBuilder AddPortalAgents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<AgentApiOptions, AgentApiOptionsValidator>(builder.Configuration, AgentApiOptions.Section);
        services.TryAddSingleton<CommandSigningKeyStore>();
        services.TryAddSingleton<CommandSigner>();
        services.TryAddSingleton<AgentCommandSignals>();
        services.TryAddSingleton<AgentCommandQueue>();
        services.TryAddSingleton<AgentCredentials>();
        services.TryAddSingleton<AgentEnrollment>();
        services.TryAddSingleton<AgentRegistry>();
        services.TryAddSingleton<InstallManifest>();
        services.TryAddSingleton<Versions.AgentRelease>();
        services.TryAddSingleton<Versions.AgentVersions>();
        services.TryAddSingleton<Versions.AgentUpgrades>();
        services.AddHostedService<Versions.AgentReleaseRecorder>();
        services.TryAddSingleton<AgentOperations>();
        services.TryAddSingleton<AgentTelemetry>();
        services.AddNotificationSubscriber<AgentCommandSubscriber>();
        services.AddJobHandler<AgentHousekeepingHandler, AgentHousekeepingJob>();
        services.AddRecurringJob(AgentHousekeepingJob.Kind, JobSchedule.Every(TimeSpan.FromMinutes(5)), new AgentHousekeepingJob());

        // Adds a scheme without changing the defaults: pages keep the cookie, the agent API names this one.
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AgentBearerHandler>(AgentBearerHandler.SchemeName, _ => { });
        services.AddAuthorization(options => options.AddPolicy(AgentBearerHandler.PolicyName, policy => policy
            .AddAuthenticationSchemes(AgentBearerHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireClaim(AgentIdentity.AgentIdClaim)));
        services.AddAgentRateLimits();
        return builder;
    }

    /// <summary>Maps protocol v1 behind its rate limiter (which must run after authorization to know the agent).</summary>
    public static WebApplication MapAgentEndpoints(this WebApplication app)
    {
        app.UseRateLimiter();
        app.MapAgentProtocolV1();
        app.MapAgentAdminApi();
        return app;
    }
}
