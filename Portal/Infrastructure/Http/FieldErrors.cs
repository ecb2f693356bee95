namespace Cogrion.Portal.Infrastructure.Http;

/// <summary>
/// Problems with what a person typed, per field (the API's names: <c>name</c>, <c>slug</c>, ...),
/// shown next to the field in the UI and returned as a <c>ValidationProblem</c> by the API.
/// </summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> errors = new(StringComparer.Ordinal);

    public bool IsEmpty => errors.Count == 0;

    public FieldErrors Add(string field, string message)
    {
        if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
        list.Add(message);
        return this;
    }

    /// <summary>Adds <paramref name="message"/> when it is not null: reads well with the rule checks that return one.</summary>
    public FieldErrors AddIf(string field, string? message) => message is null ? this : Add(field, message);

    public string? For(string field) => errors.TryGetValue(field, out var list) ? string.Join(" ", list) : null;

    public IDictionary<string, string[]> ToDictionary() => errors.ToDictionary(e => e.Key, e => e.Value.ToArray());

    public static FieldErrors Single(string field, string message) => new FieldErrors().Add(field, message);
}

/// <summary>
/// The outcome of a change: done (with its result), refused because of the input (field errors;
/// nothing was changed), or the object does not exist in this tenant.
/// </summary>
public sealed class CommandResult<T>
{
    private CommandResult(T? value, FieldErrors? errors, bool notFound)
    {
        Value = value;
        Errors = errors ?? new FieldErrors();
        IsNotFound = notFound;
    }

    public T? Value { get; }
    public FieldErrors Errors { get; }
    public bool IsNotFound { get; }
    public bool Succeeded => !IsNotFound && Errors.IsEmpty;

    public static CommandResult<T> Ok(T value) => new(value, null, false);
    public static CommandResult<T> Invalid(FieldErrors errors) => new(default, errors, false);
    public static CommandResult<T> Invalid(string field, string message) => new(default, FieldErrors.Single(field, message), false);
    public static CommandResult<T> NotFound() => new(default, null, true);
}
