using Cogrion.Jobs;

namespace Cogrion.Portal.Features.Secrets;

/// <summary>Deletes the ciphertext of deliveries nobody acknowledged once past their not-after (24 h at most), every five
/// minutes.</summary>
public sealed record SecretHousekeepingJob : IJobArguments
{
    public static string Kind => "secrets.housekeeping";
}

public sealed class SecretHousekeepingHandler(SecretRelay relay) : IJobHandler<SecretHousekeepingJob>
{
    public async Task RunAsync(SecretHousekeepingJob arguments, JobContext context)
    {
        var forgotten = await relay.ForgetExpiredAsync(context.CancellationToken);
        await context.AppendLogAsync($"Deleted the ciphertext of {forgotten} expired secret delivery(ies).");
    }
}
