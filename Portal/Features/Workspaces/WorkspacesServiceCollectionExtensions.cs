using Cogrion.Jobs;
using Cogrion.Jobs.Recurring;
using Cogrion.Portal.Features.Onboarding;
using Cogrion.Portal.Features.Workspaces;
using Cogrion.Portal.Features.Workspaces.KubernetesVersions;
using Cogrion.Portal.Features.Workspaces.Runs;
using Cogrion.Portal.Features.Workspaces.Sandbox;
using Cogrion.Portal.Infrastructure.AgentReports;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Infrastructure.Processes;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Workspaces;

public static class ProvisioningServiceCollectionExtensions
{
    /// <summary>Workspaces, their runs as jobs, drift detection and the onboarding step "create your first workspace".</summary>
    public static WebApplicationBuilder AddPortalWorkspaces(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<KubernetesVersionsOptions, KubernetesVersionsOptionsValidator>(
            builder.Configuration, KubernetesVersionsOptions.Section);
        services.TryAddSingleton<KubernetesCalendars>();
        services.TryAddSingleton<KubernetesVersionPolicy>();
        services.TryAddSingleton<WorkspaceStore>();
        services.TryAddSingleton<WorkspaceCommands>();
        services.TryAddSingleton<WorkspaceRunRequests>();
        services.TryAddSingleton<RunLedger>();
        services.AddLifelines();
        services.TryAddSingleton<RunRecovery>();
        services.AddHostedService(provider => provider.GetRequiredService<RunRecovery>());
        services.TryAddSingleton<StateBackends>();
        services.TryAddSingleton<IBootstrapTokenSource, EnrollmentBootstrapTokens>();
        services.TryAddScoped<WorkspaceRunExecutor>();
        services.AddLifelines();
        services.TryAddSingleton<SandboxClusters>();
        services.TryAddSingleton(sp => new Apps.AppCatalog(sp.GetRequiredService<IOptions<ProvisioningOptions>>().Value.CatalogRoot));
        services.TryAddSingleton<Apps.AppSecretValues>();
        services.TryAddSingleton<Apps.AppSecretSealing>();
        services.TryAddSingleton<Apps.WorkspaceApps>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAgentReportObserver, Apps.AppReportIngest>());
        services.AddHostedService(provider => provider.GetRequiredService<SandboxClusters>());
        services.AddJobHandler<WorkspacePlanHandler, WorkspacePlanJob>();
        services.AddJobHandler<WorkspaceApplyHandler, WorkspaceApplyJob>();
        services.AddJobHandler<DriftScanHandler, DriftScanJob>();
        // Read once at start: the schedule is part of the recurring job's definition.
        var drift = builder.Configuration.GetValue<TimeSpan?>($"{ProvisioningOptions.Section}:{nameof(ProvisioningOptions.DriftInterval)}")
            ?? new ProvisioningOptions().DriftInterval;
        if (drift > TimeSpan.Zero) services.AddRecurringJob("provisioning.drift-scan", JobSchedule.Every(drift), new DriftScanJob());
        services.AddOnboardingStep<FirstWorkspaceStep>();
        return builder;
    }
}
