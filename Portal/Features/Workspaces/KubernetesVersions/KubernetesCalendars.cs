using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Workspaces.KubernetesVersions;

/// <summary>The providers' calendars, read once from <see cref="KubernetesVersionsOptions.CalendarDirectory"/>.</summary>
public sealed class KubernetesCalendars(KubernetesCalendar eks, KubernetesCalendar ack)
{
    public KubernetesCalendar Eks { get; } = eks;
    public KubernetesCalendar Ack { get; } = ack;

    public KubernetesCalendars(IOptions<KubernetesVersionsOptions> options) : this(Load(options.Value.CalendarDirectory)) { }

    private KubernetesCalendars(KubernetesCalendars loaded) : this(loaded.Eks, loaded.Ack) { }

    /// <summary>Reads and checks both files; a missing or wrong one throws, naming the file and every problem in it.</summary>
    public static KubernetesCalendars Load(string directory)
    {
        KubernetesCalendar Read(string file)
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path)) throw new KubernetesCalendarException(path, ["the file does not exist"]);
            return KubernetesCalendar.Parse(File.ReadAllText(path), path);
        }
        return new KubernetesCalendars(Read(KubernetesCalendar.EksFile), Read(KubernetesCalendar.AckFile));
    }
}
