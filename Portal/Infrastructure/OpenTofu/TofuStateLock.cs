using System.Globalization;
using System.Text.RegularExpressions;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// Who holds a workspace's state lock, as OpenTofu's "Error acquiring the state lock" diagnostic says
/// it (its <c>Lock Info</c> block: ID, Path, Operation, Who, Version, Created, Info). Every backend the
/// Portal uses locks the state while a plan or apply runs (S3 with a <c>.tflock</c> object, OSS with its
/// Tablestore table, the sandbox as S3 does); a lock left by a process that was killed stays until an
/// operator releases it with <c>tofu force-unlock</c> and its <see cref="Id"/>.
/// </summary>
public sealed partial record TofuStateLock(string Id, string Path, string Operation, string Who, string Version, DateTimeOffset? Created, string Info)
{
    /// <summary>The diagnostic's summary, as OpenTofu words it (internal/command/clistate/state.go).</summary>
    public const string AcquireErrorSummary = "Error acquiring the state lock";

    /// <summary>Reads the lock info out of the diagnostic's detail; null when it has none (or no ID, which nobody could release).</summary>
    public static TofuStateLock? FromDiagnostic(TofuDiagnostic diagnostic)
    {
        if (diagnostic.Summary != AcquireErrorSummary) return null;
        var fields = FieldLine().Matches(diagnostic.Detail)
            .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value.Trim(), StringComparer.Ordinal);
        if (!fields.TryGetValue("ID", out var id) || id.Length == 0) return null;
        return new TofuStateLock(id, fields.GetValueOrDefault("Path", ""), fields.GetValueOrDefault("Operation", ""),
            fields.GetValueOrDefault("Who", ""),
            fields.GetValueOrDefault("Version", ""), ParseGoTime(fields.GetValueOrDefault("Created", "")), fields.GetValueOrDefault("Info", ""));
    }

    /// <summary>The operation in plain words: <c>OperationTypeApply</c> is "apply".</summary>
    public string OperationText => Operation.StartsWith("OperationType", StringComparison.Ordinal) && Operation.Length > 13
        ? Operation[13..].ToLowerInvariant()
        : Operation;

    /// <summary>"an apply by runner@worker-3 since 2026-12-05 10:11:12 UTC (lock ID 9f1c…)".</summary>
    public string Describe() =>
        $"{(OperationText is "apply" ? "an apply" : OperationText is "plan" ? "a plan" : $"'{Operation}'")} by " +
            $"{(Who.Length > 0 ? Who : "an unknown process")}"
        + (Created is { } created ? $" since {created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC" : "")
        + $" (lock ID {Id})";

    /// <summary>Go's <c>time.Time.String()</c>: "2026-12-05 10:11:12.123456789 +0000 UTC".</summary>
    private static DateTimeOffset? ParseGoTime(string text)
    {
        var match = GoTime().Match(text);
        if (!match.Success) return null;
        var fraction = match.Groups["fraction"].Value.PadRight(7, '0')[..7];
        var stamp = $"{match.Groups["time"].Value}.{fraction}{match.Groups["offset"].Value.Insert(3, ":")}";
        return DateTimeOffset.TryParseExact(stamp, "yyyy-MM-dd HH:mm:ss.fffffffzzz", CultureInfo.InvariantCulture, DateTimeStyles.None,
            out var parsed) ? parsed : null;
    }

    [GeneratedRegex(@"^\s*(?<name>ID|Path|Operation|Who|Version|Created|Info):[ \t]*(?<value>.*)$", RegexOptions.Multiline)]
    private static partial Regex FieldLine();

    [GeneratedRegex(@"^(?<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(?<fraction>\d+))? (?<offset>[+-]\d{4})")]
    private static partial Regex GoTime();
}
