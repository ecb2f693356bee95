using Cogrion.Jobs;
using Cogrion.Jobs.Recurring;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Infrastructure.Database;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Secrets;

public static class SecretsServiceCollectionExtensions
{
    /// <summary>Tenant secrets (docs/secrets.md): the relay, the agents' key statements, the result handlers and the ciphertext
    /// housekeeping.</summary>
    public static WebApplicationBuilder AddPortalSecrets(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton<EncryptionKeyDirectory>();
        services.TryAddSingleton<SecretRelay>();
        services.TryAddSingleton<WorkspaceSecretsDirectory>();
        services.TryAddSingleton<SecretsPageModel>();
        services.TryAddSingleton<SecretsScript>();
        services.AddSingleton<IAgentCommandResultHandler, SecretRelay.ApplyResultHandler>();
        services.AddSingleton<IAgentCommandResultHandler, SecretRelay.DeleteResultHandler>();
        services.AddJobHandler<SecretHousekeepingHandler, SecretHousekeepingJob>();
        services.AddRecurringJob(SecretHousekeepingJob.Kind, JobSchedule.Every(TimeSpan.FromMinutes(5)), new SecretHousekeepingJob());
        return builder;
    }
}
