using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Cogrion.Jobs.Recurring;

/// <summary>A job that runs on a schedule, defined in code (<see cref="RecurringJobRegistration.AddRecurringJob{TArguments}"/>).</summary>
public sealed record RecurringJobDefinition(
    string Name,
    JobSchedule Schedule,
    string Kind,
    Func<JobQueue, NpgsqlTransaction, CancellationToken, Task<long>> Enqueue);

public static class RecurringJobRegistration
{
    /// <summary>
    /// Runs <paramref name="arguments"/> on <paramref name="schedule"/>, once per due time across all
    /// replicas. A run that is still queued or running when the next falls due is not doubled up.
    /// </summary>
    public static IServiceCollection AddRecurringJob<TArguments>(this IServiceCollection services, string name, JobSchedule schedule,
        TArguments arguments)
        where TArguments : IJobArguments
    {
        services.AddSingleton(new RecurringJobDefinition(name, schedule, TArguments.Kind, (queue, transaction, cancellationToken) =>
            queue.EnqueueAsync(transaction, arguments, new EnqueueOptions { CreatedBy = $"system:recurring:{name}", RecurringName = name },
                cancellationToken)));
        return services;
    }
}
