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
        services.AddHostedService<SecretHousekeeping>();
        return builder;
    }
}

/// <summary>Deletes ciphertext nobody acknowledged once past its not-after (24 h at most); idempotent on every replica.</summary>
public sealed class SecretHousekeeping(SecretRelay relay, MigrationStatus migrations, TimeProvider time,
    ILogger<SecretHousekeeping> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

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
                    var forgotten = await relay.ForgetExpiredAsync(stoppingToken);
                    if (forgotten > 0) logger.LogInformation("Deleted the ciphertext of {Count} expired secret delivery(ies)", forgotten);
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
                {
                    logger.LogWarning("Secret housekeeping skipped a round: {Problem}", ex.Message);
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
