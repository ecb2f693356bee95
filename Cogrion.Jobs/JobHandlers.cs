using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Jobs;

/// <summary>
/// The arguments of one job kind. The type names its kind and its policy, so enqueueing
/// <c>new DiagnosticEchoJob(...)</c> is all a caller writes. Arguments are stored as JSON in the
/// database and shown in the admin console: they hold ids and settings, NEVER secret values
/// (pass a reference the handler resolves at run time). The engine refuses secret-looking keys.
/// </summary>
public interface IJobArguments
{
    /// <summary>A stable dotted name such as <c>provisioning.apply</c>; stored in every job row.</summary>
    static abstract string Kind { get; }

    /// <summary>Attempts and backoff for this kind.</summary>
    static virtual JobPolicy Policy => JobPolicy.Default;
}

/// <summary>Runs jobs of one kind. Resolved from a fresh DI scope per attempt; must be idempotent (a job can run again after a crash).</summary>
public interface IJobHandler<in TArguments> where TArguments : IJobArguments
{
    Task RunAsync(TArguments arguments, JobContext context);
}

/// <summary>How often a kind is tried and how long it waits between attempts.</summary>
public sealed record JobPolicy(int MaxAttempts, TimeSpan BackoffBase, TimeSpan BackoffMax)
{
    public static JobPolicy Default { get; } = new(3, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(10));
}

/// <summary>What the engine knows about one registered kind.</summary>
internal sealed record JobKindRegistration(
    string Kind,
    Type ArgumentsType,
    JobPolicy Policy,
    Func<IServiceProvider, JsonElement, JobContext, Task> Invoke);

/// <summary>Every kind this build can run, by name.</summary>
public sealed class JobKindRegistry
{
    private readonly Dictionary<string, JobKindRegistration> kinds;

    internal JobKindRegistry(IEnumerable<JobKindRegistration> registrations)
    {
        kinds = new Dictionary<string, JobKindRegistration>(StringComparer.Ordinal);
        foreach (var registration in registrations)
        {
            if (!kinds.TryAdd(registration.Kind, registration) && kinds[registration.Kind].ArgumentsType != registration.ArgumentsType)
                throw new InvalidOperationException($"Job kind '{registration.Kind}' is registered twice, for " +
                    $"{kinds[registration.Kind].ArgumentsType.Name} and {registration.ArgumentsType.Name}.");
        }
    }

    public IReadOnlyCollection<string> Kinds => kinds.Keys;

    internal JobKindRegistration? Find(string kind) => kinds.GetValueOrDefault(kind);

    /// <summary>The policy of a kind this build runs, or null for a kind it does not know.</summary>
    public JobPolicy? PolicyOf(string kind) => Find(kind)?.Policy;
}

public static class JobHandlerRegistration
{
    /// <summary>The one line a feature writes to add a job kind: <c>services.AddJobHandler&lt;MyHandler, MyJob&gt;();</c></summary>
    public static IServiceCollection AddJobHandler<THandler, TArguments>(this IServiceCollection services)
        where THandler : class, IJobHandler<TArguments>
        where TArguments : IJobArguments
    {
        services.TryAddScoped<THandler>();
        services.AddSingleton(new JobKindRegistration(
            TArguments.Kind,
            typeof(TArguments),
            TArguments.Policy,
            static (provider, json, context) =>
            {
                var arguments = json.Deserialize<TArguments>(JobJson.Options)
                    ?? throw new JobArgumentsException($"The arguments of this {TArguments.Kind} job are empty.");
                return provider.GetRequiredService<THandler>().RunAsync(arguments, context);
            }));
        return services;
    }
}

/// <summary>The one JSON shape of job arguments (camelCase, the web's default).</summary>
public static class JobJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}

/// <summary>Arguments that cannot be stored or read: a secret-looking key, or JSON that does not fit the kind.</summary>
public sealed class JobArgumentsException(string message) : Exception(message);
