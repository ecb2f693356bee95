namespace Cogrion.Jobs.Diagnostics;

/// <summary>
/// A job for operators to check the workers end to end: it runs for <see cref="Seconds"/>, logging
/// each second, and fails its first <see cref="FailFirstAttempts"/> attempts on purpose (so retries,
/// backoff and the final failed state can be watched too). Cancellable at every second.
/// </summary>
public sealed record DiagnosticEchoJob(int Seconds, int FailFirstAttempts = 0, string? Message = null) : IJobArguments
{
    public const int MaxSeconds = 3600;
    public const int MaxFailures = 10;
    public const int MaxMessageLength = 200;

    public static string Kind => "diagnostics.echo";
    static JobPolicy IJobArguments.Policy => new(3, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1));

    /// <summary>Every problem with these arguments, for the console's form and for the handler.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Seconds is < 0 or > MaxSeconds) problems.Add($"Seconds must be between 0 and {MaxSeconds}.");
        if (FailFirstAttempts is < 0 or > MaxFailures) problems.Add($"Failing attempts must be between 0 and {MaxFailures}.");
        if (Message is { Length: > MaxMessageLength }) problems.Add($"The message must be at most {MaxMessageLength} characters.");
        return problems;
    }
}

public sealed class DiagnosticEchoHandler(TimeProvider time) : IJobHandler<DiagnosticEchoJob>
{
    public async Task RunAsync(DiagnosticEchoJob arguments, JobContext context)
    {
        if (arguments.Validate() is { Count: > 0 } problems) throw new JobArgumentsException(string.Join(" ", problems));
        await context.AppendLogAsync($"Attempt {context.Attempt} of {context.MaxAttempts} on worker {context.WorkerId}" +
                                     (arguments.Message is null ? "." : $": {arguments.Message}"));
        for (var second = 1; second <= arguments.Seconds; second++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), time, context.CancellationToken);
            await context.AppendLogAsync($"{second} of {arguments.Seconds} second(s) done.");
        }
        if (context.Attempt <= arguments.FailFirstAttempts)
            throw new DiagnosticFailureException($"Failing attempt {context.Attempt} on purpose (asked to fail the first " +
                $"{arguments.FailFirstAttempts}).");
        await context.AppendLogAsync("Done.");
    }
}

/// <summary>The failure a diagnostic job was asked for.</summary>
public sealed class DiagnosticFailureException(string message) : Exception(message);
