using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.OpenTofu;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>Recorded OpenTofu output (Recordings/), read the way the runner reads a live process.</summary>
public static class Recording
{
    public const string SensitiveOutputValue = "Recorded-Sensitive-Output-9f2c";
    public const string SensitiveVariableValue = "Recorded-Sensitive-Variable-77e1";

    public static string Text(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "OpenTofu", "Recordings", name));

    public static IReadOnlyList<TofuEvent> Events(string name) =>
        Text(name).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => TofuUiParser.Parse(line)).ToList();

    /// <summary>The readable log of a recording, with the run's secret inputs known to the redactor.</summary>
    public static IReadOnlyList<RunLogLine> Log(string name, TofuStage stage, params string[] secrets)
    {
        var formatter = new RunLogFormatter(new SecretRedactor(secrets), TimeProvider.System);
        return Events(name).SelectMany(e => formatter.Format(stage, e)).ToList();
    }
}
