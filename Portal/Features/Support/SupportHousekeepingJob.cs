using Cogrion.Jobs;

namespace Cogrion.Portal.Features.Support;

/// <summary>
/// Records support requests' expiries and grants' endings once each, and deletes what support read under grants that ended,
/// every minute (the agent enforces a grant's end on its own clock; this is the Portal's record of it).
/// </summary>
public sealed record SupportHousekeepingJob : IJobArguments
{
    public static string Kind => "support.housekeeping";
}

public sealed class SupportHousekeepingHandler(SupportRequests requests) : IJobHandler<SupportHousekeepingJob>
{
    public async Task RunAsync(SupportHousekeepingJob arguments, JobContext context)
    {
        var ended = await requests.RecordClockEndingsAsync(context.CancellationToken);
        await context.AppendLogAsync($"Deleted the answers of {ended} ended support grant(s).");
    }
}
