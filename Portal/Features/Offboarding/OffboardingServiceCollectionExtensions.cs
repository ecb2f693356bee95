using Cogrion.Jobs;
using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Offboarding;

public static class OffboardingServiceCollectionExtensions
{
    public static WebApplicationBuilder AddPortalOffboarding(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<OffboardingOptions, OffboardingOptionsValidator>(builder.Configuration, OffboardingOptions.Section);
        builder.Services.TryAddSingleton<OffboardingStore>();
        builder.Services.TryAddSingleton<OffboardingCommands>();
        builder.Services.TryAddSingleton<CertificateKeys>();
        builder.Services.TryAddSingleton<StepWakeups>();
        builder.Services.TryAddScoped<OffboardingDownloads>();
        // The steps, in no particular order: each names its own (OffboardingStep), and the handler runs the one a job asks for.
        builder.Services.AddTransient<IOffboardingStep, ExportStep>();
        builder.Services.AddTransient<IOffboardingStep, DestroyWorkspacesStep>();
        builder.Services.AddTransient<IOffboardingStep, UninstallAgentsStep>();
        builder.Services.AddTransient<IOffboardingStep, RevokeStep>();
        builder.Services.AddTransient<IOffboardingStep, CloudAccessStep>();
        builder.Services.AddTransient<IOffboardingStep, CertificateStep>();
        builder.Services.AddTransient<IOffboardingStep, PurgeStep>();
        builder.Services.AddJobHandler<OffboardingStepHandler, OffboardingStepJob>();
        builder.Services.TryAddSingleton<RoleChecks>();
        builder.Services.AddJobHandler<RoleCheckHandler, RoleCheckJob>();
        return builder;
    }
}
