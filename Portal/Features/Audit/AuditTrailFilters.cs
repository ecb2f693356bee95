using Microsoft.AspNetCore.WebUtilities;

namespace Cogrion.Portal.Features.Audit;

/// <summary>
/// What the audit trail's filter bar holds: turned into the query's <see cref="AuditFilter"/> and into the
/// export link, so an export returns exactly the events the grid shows. Times are entered and shown in UTC.
/// </summary>
public sealed class AuditTrailFilters
{
    public static readonly IReadOnlyList<string> ActorKinds = ["user", "agent", "system"];

    public string? Action { get; set; }
    public string? Actor { get; set; }
    public string? ActorKind { get; set; }
    public DateTime? From { get; set; }
    public DateTime? To { get; set; }

    public AuditFilter ToFilter() => new(Utc(From), Utc(To), Blank(Action), Blank(Actor), Blank(ActorKind));

    public void Clear()
    {
        Action = Actor = ActorKind = null;
        From = To = null;
    }

    /// <summary>The export endpoint for these filters (<paramref name="exportPath"/> plus the query string).</summary>
    public string ExportUrl(string exportPath, string format)
    {
        var query = new Dictionary<string, string?> { ["format"] = format };
        var filter = ToFilter();
        if (filter.Action is { } action) query["action"] = action;
        if (filter.Actor is { } actor) query["actor"] = actor;
        if (filter.ActorKind is { } kind) query["actorKind"] = kind;
        if (filter.From is { } from) query["from"] = from.ToString("O");
        if (filter.To is { } to) query["to"] = to.ToString("O");
        return QueryHelpers.AddQueryString(exportPath, query);
    }

    private static DateTimeOffset? Utc(DateTime? value) => value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
