using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.Jobs;

/// <summary>What the job console's filter bar holds, and the query filter it stands for. Times are UTC.</summary>
public sealed class JobConsoleFilters
{
    public string? State { get; set; }
    public string? Kind { get; set; }
    public string? Tenant { get; set; }
    public DateTime? From { get; set; }
    public DateTime? To { get; set; }

    /// <summary>Problems with what was typed, per field (only the tenant id can be malformed).</summary>
    public FieldErrors Errors { get; private set; } = new();

    public bool IsEmpty => State is null && Kind is null && string.IsNullOrWhiteSpace(Tenant) && From is null && To is null;

    /// <summary>The query's filter; a tenant id that is not a UUID is reported on its field and left out, so the rest still applies.</summary>
    public JobFilter ToFilter()
    {
        Errors = new FieldErrors();
        Guid? tenant = null;
        if (!string.IsNullOrWhiteSpace(Tenant))
        {
            if (Guid.TryParse(Tenant.Trim(), out var id)) tenant = id;
            else Errors.Add("tenant", $"'{Tenant.Trim()}' is not a tenant id (a UUID); the tenant filter is ignored.");
        }
        return new JobFilter(State, Kind, tenant, Utc(From), Utc(To));
    }

    public void Clear()
    {
        State = Kind = Tenant = null;
        From = To = null;
        Errors = new FieldErrors();
    }

    private static DateTimeOffset? Utc(DateTime? value) => value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
}
