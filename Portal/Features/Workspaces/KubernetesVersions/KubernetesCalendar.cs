using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cogrion.Portal.Features.Workspaces.KubernetesVersions;

/// <summary>
/// A date as a provider's calendar publishes it: a day, or only a month ("2026-05"). A month-only date
/// is read cautiously where it is used: a release counts from the month's last day, an end of support
/// from its first, so the Portal never offers a version earlier or longer than the calendar allows.
/// </summary>
public readonly record struct PublishedDate(DateOnly First, DateOnly Last)
{
    public bool IsMonthOnly => First != Last;

    public static bool TryParse(string? text, out PublishedDate date)
    {
        date = default;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            date = new PublishedDate(day, day);
            return true;
        }
        if (DateOnly.TryParseExact(text, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month))
        {
            date = new PublishedDate(month, month.AddMonths(1).AddDays(-1));
            return true;
        }
        return false;
    }

    public override string ToString() => IsMonthOnly ? First.ToString("yyyy-MM", CultureInfo.InvariantCulture)
        : First.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>One minor version on one provider: when the provider released it and when its support ends.</summary>
/// <param name="EndOfExtendedSupport">Null where the provider publishes no extended support (ACK).</param>
public sealed record KubernetesRelease(KubernetesMinor Version, PublishedDate Released, PublishedDate EndOfStandardSupport,
    PublishedDate? EndOfExtendedSupport)
{
    /// <summary>Released on or before <paramref name="day"/> (a month-only release: by the month's end).</summary>
    public bool IsReleasedBy(DateOnly day) => Released.Last <= day;

    /// <summary>
    /// In standard support on <paramref name="day"/>: released, and its end of standard support not reached.
    /// The end date itself is outside (EKS bills extended support from the start of that day, UTC).
    /// </summary>
    public bool IsInStandardSupportOn(DateOnly day) => IsReleasedBy(day) && day < StandardSupportEnds;

    /// <summary>The first day without standard support.</summary>
    public DateOnly StandardSupportEnds => EndOfStandardSupport.First;
}

/// <summary>
/// A provider's published Kubernetes calendar, as the Portal ships it (<c>eks.json</c>, <c>ack.json</c> next
/// to this file): the platform's name, where the dates come from, and each minor version's dates.
/// </summary>
public sealed record KubernetesCalendar(string Platform, DateOnly Checked, IReadOnlyList<string> Sources, IReadOnlyList<KubernetesRelease> Releases)
{
    /// <summary>The file names the Portal reads, one per provider calendar.</summary>
    public const string EksFile = "eks.json";
    public const string AckFile = "ack.json";

    public KubernetesRelease? Find(KubernetesMinor version) => Releases.FirstOrDefault(r => r.Version == version);

    /// <summary>
    /// Reads a calendar file and checks it, listing every problem at once: a Portal must not start on a
    /// calendar with a typo in it, since it decides which clusters people may create.
    /// </summary>
    public static KubernetesCalendar Parse(string json, string origin)
    {
        CalendarFile? file;
        try
        {
            file = JsonSerializer.Deserialize<CalendarFile>(json, FileJson);
        }
        catch (JsonException ex)
        {
            throw new KubernetesCalendarException(origin, [$"not valid JSON: {ex.Message}"]);
        }
        List<string> problems = [];
        if (file is null) throw new KubernetesCalendarException(origin, ["empty"]);
        if (string.IsNullOrWhiteSpace(file.Platform)) problems.Add("'platform' is missing");
        if (!DateOnly.TryParseExact(file.Checked, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var checkedOn))
            problems.Add("'checked' must be the day the dates were last compared with the sources (YYYY-MM-DD)");
        var sources = file.Sources ?? [];
        if (sources.Count == 0 || sources.Any(s => !Uri.TryCreate(s, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps))
            problems.Add("'sources' must list the https addresses the dates were taken from");
        List<KubernetesRelease> releases = [];
        foreach (var (entry, index) in (file.Versions ?? []).Select((v, i) => (v, i)))
        {
            var where = $"versions[{index}]";
            if (!KubernetesMinor.TryParse(entry.Version,
                out var version)) { problems.Add($"{where}: '{entry.Version}' is not a minor version such as 1.35"); continue; }
            where = $"{where} ({version})";
            if (!PublishedDate.TryParse(entry.Released, out var released)) problems.Add($"{where}: 'released' must be YYYY-MM-DD or YYYY-MM");
            if (!PublishedDate.TryParse(entry.EndOfStandardSupport,
                out var standardEnds)) problems.Add($"{where}: 'endOfStandardSupport' must be YYYY-MM-DD or YYYY-MM");
            PublishedDate? extendedEnds = null;
            if (entry.EndOfExtendedSupport is not null)
            {
                if (PublishedDate.TryParse(entry.EndOfExtendedSupport, out var parsed)) extendedEnds = parsed;
                else problems.Add($"{where}: 'endOfExtendedSupport' must be YYYY-MM-DD or YYYY-MM, or absent");
            }
            if (released != default && standardEnds != default && standardEnds.First <= released.Last)
                problems.Add($"{where}: standard support must end after the release");
            if (extendedEnds is { } extended && standardEnds != default && extended.First <= standardEnds.First)
                problems.Add($"{where}: extended support must end after standard support");
            releases.Add(new KubernetesRelease(version, released, standardEnds, extendedEnds));
        }
        if (releases.Count == 0) problems.Add("'versions' lists no version");
        foreach (var duplicate in releases.GroupBy(r => r.Version).Where(g => g.Count() > 1))
            problems.Add($"{duplicate.Key} is listed {duplicate.Count()} times");
        if (problems.Count > 0) throw new KubernetesCalendarException(origin, problems);
        return new KubernetesCalendar(file.Platform!, checkedOn, sources, releases.OrderByDescending(r => r.Version).ToList());
    }

    private static readonly JsonSerializerOptions FileJson = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The file's shape; <c>notes</c> are for the person who updates it.</summary>
    private sealed record CalendarFile(string? Platform, string? Checked, List<string>? Sources, List<string>? Notes, List<VersionEntry>? Versions);

    private sealed record VersionEntry(string? Version, string? Released, string? EndOfStandardSupport, string? EndOfExtendedSupport);
}

/// <summary>A calendar file the Portal cannot use, with every problem found in it.</summary>
public sealed class KubernetesCalendarException(string origin, IReadOnlyList<string> problems)
    : Exception($"The Kubernetes calendar {origin} cannot be used: {string.Join("; ", problems)}.")
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
