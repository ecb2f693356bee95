using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Infrastructure.Processes;

public static class ProcessesServiceCollectionExtensions
{
    /// <summary>Child processes tied to the Portal's life, and the ending of a dead worker's leftovers. Safe to call more than once.</summary>
    public static IServiceCollection AddLifelines(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LifelineLauncher>();
        services.TryAddSingleton<LeftoverProcesses>();
        return services;
    }
}
