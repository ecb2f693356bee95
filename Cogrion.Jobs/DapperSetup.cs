using Dapper;

namespace Cogrion.Jobs;

/// <summary>
/// The Dapper conventions the engine's queries are written for: snake_case columns onto PascalCase
/// members, and timestamptz read as a UTC DateTimeOffset. Dapper keeps them process-wide, so a host
/// that uses Dapper must agree (the Portal's DapperConventions sets the same two).
/// </summary>
internal static class DapperSetup
{
    private static int registered;

    public static void EnsureRegistered()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1) return;
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        // Dapper maps DateTimeOffset itself unless its built-in entry is removed first.
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset?));
        SqlMapper.AddTypeHandler(new UtcDateTimeOffsetHandler());
    }

    /// <summary>PostgreSQL's timestamptz is an instant; Npgsql reads it as a UTC DateTime and only writes offset-zero values.</summary>
    private sealed class UtcDateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(System.Data.IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = value.ToUniversalTime();

        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
            DateTimeOffset dto => dto,
            _ => throw new InvalidCastException($"Cannot read {value.GetType().Name} as a timestamp."),
        };
    }
}
