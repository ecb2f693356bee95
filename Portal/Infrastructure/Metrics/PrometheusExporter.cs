using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Cogrion.Portal.Infrastructure.Metrics;

/// <summary>A source of gauges that must be read fresh (from the database) just before a scrape.</summary>
public interface IMetricsSnapshotSource
{
    Task RefreshAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Aggregates the Portal's own instruments (meters named <c>Cogrion.*</c>) with a
/// <see cref="MeterListener"/> and writes them in the Prometheus text exposition format (0.0.4).
/// The OpenTelemetry Prometheus exporter is not on our package feed; this is the small part of it we
/// need: counters, up-down counters, histograms with fixed buckets, and observable gauges.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    public const string MeterPrefix = "Cogrion.";

    /// <summary>Seconds, from a fast claim to an hour-long provisioning run.</summary>
    private static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

    private readonly MeterListener listener = new();
    private readonly Dictionary<Instrument, InstrumentState> instruments = [];
    private readonly object gate = new();

    public PrometheusExporter()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (!instrument.Meter.Name.StartsWith(MeterPrefix, StringComparison.Ordinal)) return;
            lock (gate) instruments[instrument] = new InstrumentState(instrument);
            l.EnableMeasurementEvents(instrument);
        };
        listener.MeasurementsCompleted = (instrument, _) => { lock (gate) instruments.Remove(instrument); };
        listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
        listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Record(i, value, tags));
        listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, value, tags));
        listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        InstrumentState? state;
        lock (gate) instruments.TryGetValue(instrument, out state);
        state?.Record(value, Labels(tags));
    }

    /// <summary>The exposition text of every instrument, gauges observed now.</summary>
    public string Scrape()
    {
        listener.RecordObservableInstruments();
        List<InstrumentState> states;
        lock (gate) states = instruments.Values.ToList();
        var text = new StringBuilder();
        // Two hosts in one process (tests) publish the same names: write each name once, series merged.
        foreach (var group in states.GroupBy(s => s.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var first = group.First();
            text.Append("# HELP ").Append(first.Name).Append(' ').Append(Escape(first.Help)).Append('\n');
            text.Append("# TYPE ").Append(first.Name).Append(' ').Append(first.Type).Append('\n');
            foreach (var state in group) state.WriteSeries(text);
        }
        return text.ToString();
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0) return "";
        var pairs = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
            pairs.Add($"{Sanitize(key)}=\"{Escape(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")}\"");
        pairs.Sort(StringComparer.Ordinal);
        return string.Join(',', pairs);
    }

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
            if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] != '_') chars[i] = '_';
        return new string(chars);
    }

    private static string Escape(string value) => value.Replace(@"\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n");

    private static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public void Dispose() => listener.Dispose();

    private enum Aggregation { Sum, LastValue, Histogram }

    private sealed class InstrumentState
    {
        private readonly object seriesGate = new();
        private readonly Dictionary<string, double> values = [];
        private readonly Dictionary<string, (long[] Counts, double Sum, long Count)> histograms = [];
        private readonly Aggregation aggregation;

        public string Name { get; }
        public string Help { get; }
        public string Type { get; }

        public InstrumentState(Instrument instrument)
        {
            var type = instrument.GetType();
            var generic = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
            // Synchronous instruments report deltas (summed here); observable ones report the current value.
            aggregation = generic == typeof(Histogram<>) ? Aggregation.Histogram
                : instrument.IsObservable ? Aggregation.LastValue
                : Aggregation.Sum;
            var monotonic = generic == typeof(Counter<>) || generic == typeof(ObservableCounter<>);
            Type = aggregation == Aggregation.Histogram ? "histogram" : monotonic ? "counter" : "gauge";
            var name = Sanitize(instrument.Name);
            if (instrument.Unit == "s") name += "_seconds";
            if (monotonic) name += "_total";
            Name = name;
            Help = instrument.Description ?? instrument.Name;
        }

        public void Record(double value, string labels)
        {
            lock (seriesGate)
            {
                switch (aggregation)
                {
                    case Aggregation.Histogram:
                        var (counts, sum, count) = histograms.TryGetValue(labels, out var h) ? h : (new long[Buckets.Length], 0d, 0L);
                        for (var i = 0; i < Buckets.Length; i++)
                            if (value <= Buckets[i]) counts[i]++;
                        histograms[labels] = (counts, sum + value, count + 1);
                        break;
                    case Aggregation.LastValue:
                        values[labels] = value;
                        break;
                    default:
                        values[labels] = values.GetValueOrDefault(labels) + value;
                        break;
                }
            }
        }

        public void WriteSeries(StringBuilder text)
        {
            lock (seriesGate)
            {
                foreach (var (labels, value) in values)
                    text.Append(Name).Append(Braces(labels)).Append(' ').Append(Number(value)).Append('\n');
                foreach (var (labels, (counts, sum, count)) in histograms)
                {
                    var prefix = labels.Length == 0 ? "" : labels + ",";
                    for (var i = 0; i < Buckets.Length; i++)
                        text.Append(Name).Append("_bucket{").Append(prefix).Append("le=\"").Append(Number(Buckets[i])).Append("\"} ")
                            .Append(counts[i]).Append('\n');
                    text.Append(Name).Append("_bucket{").Append(prefix).Append("le=\"+Inf\"} ").Append(count).Append('\n');
                    text.Append(Name).Append("_sum").Append(Braces(labels)).Append(' ').Append(Number(sum)).Append('\n');
                    text.Append(Name).Append("_count").Append(Braces(labels)).Append(' ').Append(count).Append('\n');
                }
            }
        }

        private static string Braces(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";
    }
}
