using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Onboarding;

public static class OnboardingServiceCollectionExtensions
{
    public static WebApplicationBuilder AddPortalOnboarding(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<OnboardingStore>();
        builder.Services.TryAddSingleton<OnboardingSteps>();
        builder.Services.AddOnboardingStep<OrganisationNameStep>();
        builder.Services.AddOnboardingStep<AddressStep>();
        builder.Services.AddOnboardingStep<ConfirmStep>();
        return builder;
    }

    /// <summary>Adds a step to the wizard; its <see cref="IOnboardingStep.Order"/> decides where it goes.</summary>
    public static IServiceCollection AddOnboardingStep<TStep>(this IServiceCollection services) where TStep : class, IOnboardingStep
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOnboardingStep, TStep>());
        return services;
    }
}
